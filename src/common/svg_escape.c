/*
 * src/common/svg_escape.c
 *    The one escaper of text written into SVG (XML) documents, used by the
 *    C charts and, through attribution_svg_escape(text), by the SQL ones.
 */
#include "postgres.h"

#include "common/svg_escape.h"
#include "mb/pg_wchar.h"

/*
 * Text for an SVG document: XML's special characters as entities, every
 * non-ASCII character as a numeric reference (so the document is ASCII
 * whatever the database encoding), characters XML forbids as '?'.
 */
void
funnel_svg_append_text(StringInfo buf, const char *s)
{
	/* SQL_ASCII: bytes as they are (checked below); else converted to UTF-8 */
	const char *u = (GetDatabaseEncoding() == PG_SQL_ASCII) ? s :
		pg_server_to_any(s, strlen(s), PG_UTF8);
	const unsigned char *p = (const unsigned char *) u;

	while (*p)
	{
		if (*p < 0x80)
		{
			switch (*p)
			{
				case '&':
					appendStringInfoString(buf, "&amp;");
					break;
				case '<':
					appendStringInfoString(buf, "&lt;");
					break;
				case '>':
					appendStringInfoString(buf, "&gt;");
					break;
				case '"':
					appendStringInfoString(buf, "&quot;");
					break;
				case '\'':
					appendStringInfoString(buf, "&#39;");
					break;
				default:
					if (*p < 0x20 || *p == 0x7f)
						appendStringInfoChar(buf, '?');
					else
						appendStringInfoChar(buf, (char) *p);
			}
			p++;
		}
		else
		{
			int			l = pg_utf_mblen(p);
			pg_wchar	c;
			int			i;

			/* SQL_ASCII databases can hold anything: check the sequence */
			for (i = 1; i < l; i++)
				if (p[i] == '\0')
					break;
			if (i < l || !pg_utf8_islegal(p, l))
			{
				appendStringInfoChar(buf, '?');
				p++;
				continue;
			}
			c = utf8_to_unicode(p);
			if (c < 0xA0 || c == 0xFFFE || c == 0xFFFF || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
				appendStringInfoChar(buf, '?');
			else
				appendStringInfo(buf, "&#%u;", (unsigned int) c);
			p += l;
		}
	}
}
