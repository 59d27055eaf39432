-- attribution charts: the psql bar chart and the SVG (well-formed, escaped)
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(16);

CREATE TEMP TABLE tp (e int, ts timestamptz, ch text, v numeric);
-- entity 1: search, email, conversion; entity 2: <b>&"ads'</b>, conversion;
-- entity 3: a conversion without touchpoints
INSERT INTO tp VALUES (1, '2024-01-01', 'search', NULL), (1, '2024-01-02', 'email', NULL), (1, '2024-01-03', NULL, 10),
                      (2, '2024-01-01', '<b>&"ads''</b>', NULL), (2, '2024-01-02', NULL, 5),
                      (3, '2024-01-02', NULL, 1);
CREATE TEMP TABLE s AS
SELECT (SELECT attribution('first_touch', e, ts, ch, v) FROM tp) AS ft,
       (SELECT attribution('linear', e, ts, ch, v) FROM tp) AS li;

-- bar chart: credits first_touch: search 1, email 0, ads 1, NULL 1;
-- linear: search .5, email .5, ads 1, NULL 1.  Largest 1 = 10 characters.
SELECT is((SELECT array_agg(coalesce(channel, '-') || '|' || model || '|' || bar) FROM attribution_bar_chart(ARRAY[ft, li], 10)),
          ARRAY['<b>&"ads''</b>|first_touch|' || repeat(U&'\2588', 10),
                '<b>&"ads''</b>|linear|' || repeat(U&'\2588', 10),
                'search|first_touch|' || repeat(U&'\2588', 10),
                'search|linear|' || repeat(U&'\2588', 5),
                'email|first_touch|',
                'email|linear|' || repeat(U&'\2588', 5),
                '-|first_touch|' || repeat(U&'\2588', 10),
                '-|linear|' || repeat(U&'\2588', 10)],
          'bar chart: channels by top credit, models side by side, bars to scale') FROM s;
-- partial blocks: 0.5 of width 3 = 1.5 characters = one full block and a half block
SELECT is((SELECT bar FROM attribution_bar_chart(ARRAY[li], 3) WHERE channel = 'email'), U&'\2588\258C',
          'bar chart: eighths of a character') FROM s;
SELECT throws_ok($$SELECT * FROM attribution_bar_chart(ARRAY[(SELECT ft FROM s)], 0) $$, '22023',
                 'chart width 0 is out of range', 'bar chart: bad width');

-- SVG
CREATE TEMP TABLE svg AS SELECT attribution_svg(ARRAY[ft, li], 'Credit <by> channel & "model"') AS svg FROM s;
SELECT ok(xml_is_well_formed_document(svg), 'svg: well-formed XML') FROM svg;
SELECT is((xpath('count(//s:rect[@class="bar"])', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[0 + 1]::text, '8',
          'svg: one bar per channel and model') FROM svg;
SELECT is((xpath('//s:text[@class="channel"]/text()', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
          '&lt;b&gt;&amp;"ads''&lt;/b&gt;', 'svg: channel names escaped (read back as text)') FROM svg;
SELECT ok(strpos(svg, '<b>') = 0 AND strpos(svg, '&"') = 0, 'svg: no raw markup from the data') FROM svg;
SELECT is((xpath('//s:text[@class="title"]/text()', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
          'Credit &lt;by&gt; channel &amp; "model"', 'svg: title escaped') FROM svg;
SELECT is((xpath('count(//s:rect[@class="legend"])', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text, '2',
          'svg: a legend entry per model') FROM svg;
-- bar widths: 560 px for the largest credit (1), 280 for 0.5
SELECT is((xpath('//s:rect[@class="bar"]/@width', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))::text[],
          ARRAY['560.0', '560.0', '560.0', '280.0', '0.0', '280.0', '560.0', '560.0'], 'svg: bar widths to scale') FROM svg;
SELECT is(attribution_svg_escape($$a<b>&"c'$$), 'a&lt;b&gt;&amp;&quot;c&#39;', 'escape');
-- XML 1.0 allows no C0 control character but tab, newline and carriage
-- return, and no DEL in well-formed text we write: each becomes '?'
SELECT is(attribution_svg_escape(E'a\x01b\x1fc\x7fd\te'), 'a?b?c?d?e', 'escape: control characters replaced');
-- non-ASCII characters as numeric references, so the document is ASCII
SELECT is(attribution_svg_escape(U&'caf\00e9 \2192'), 'caf&#233; &#8594;', 'escape: non-ASCII as character references');
-- a channel name with a control character still gives a well-formed document
SELECT is((xpath('//s:text[@class="channel"]/text()',
                 attribution_svg(ARRAY[(SELECT attribution('linear', e, ts, ch, v)
                                        FROM (VALUES (1, timestamptz '2024-01-01', E'a\x02b', NULL::numeric),
                                                     (1, '2024-01-02', NULL, 1)) x(e, ts, ch, v))])::xml,
                 ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text,
          'a?b', 'svg: control character in a channel name replaced');
SELECT is((SELECT prolang FROM pg_proc WHERE oid = 'attribution_svg_escape(text)'::regprocedure),
          (SELECT oid FROM pg_language WHERE lanname = 'c'), 'escape: one escaper, the C one');
SELECT throws_ok($$SELECT attribution_svg(ARRAY[]::attribution_summary[]) $$, '22023', 'at least one attribution summary is required', 'svg: no summary');

SELECT * FROM finish();
ROLLBACK;
