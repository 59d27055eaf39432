--
-- sequence_next_node: ClickHouse's own test cases
-- (tests/queries/0_stateless/01656_sequence_next_node_long.sql).  Each query
-- is ClickHouse's, translated; the values in ch_expected are the lines of its
-- .reference file (N = NULL).  The queries list every group with the value
-- ClickHouse gives and the one we give; "ok" compares.
--
SET timezone = 'UTC';
CREATE TABLE nn (dt timestamptz, id int, action text);
INSERT INTO nn VALUES
 ('2000-01-02 09:00:01',1,'A'), ('2000-01-02 09:00:02',1,'B'), ('2000-01-02 09:00:03',1,'C'), ('2000-01-02 09:00:04',1,'D'),
 ('2000-01-02 09:00:01',2,'B'), ('2000-01-02 09:00:02',2,'B'), ('2000-01-02 09:00:03',2,'D'), ('2000-01-02 09:00:04',2,'C'),
 ('2000-01-02 09:00:01',3,'A'), ('2000-01-02 09:00:02',3,'B'),
 ('2000-01-02 09:00:01',4,'A'), ('2000-01-02 09:00:02',4,'A'), ('2000-01-02 09:00:03',4,'A'), ('2000-01-02 09:00:04',4,'B'),
 ('2000-01-02 09:00:05',4,'C'),
 ('2000-01-02 09:00:01',5,'A'), ('2000-01-02 09:00:02',5,'B'), ('2000-01-02 09:00:03',5,'A'), ('2000-01-02 09:00:04',5,'C'),
 ('2000-01-02 09:00:01',6,'A'), ('2000-01-02 09:00:02',6,'B'), ('2000-01-02 09:00:03',6,'A'), ('2000-01-02 09:00:04',6,'B'),
 ('2000-01-02 09:00:05',6,'C');

CREATE TABLE ch_expected (label text, id int, want text);
INSERT INTO ch_expected VALUES
 ('(forward, head, A)', 1, 'B'),
 ('(forward, head, A)', 2, NULL),
 ('(forward, head, A)', 3, 'B'),
 ('(forward, head, A)', 4, 'A'),
 ('(forward, head, A)', 5, 'B'),
 ('(forward, head, A)', 6, 'B'),
 ('(forward, head, B)', 1, NULL),
 ('(forward, head, B)', 2, 'B'),
 ('(forward, head, B)', 3, NULL),
 ('(forward, head, B)', 4, NULL),
 ('(forward, head, B)', 5, NULL),
 ('(forward, head, B)', 6, NULL),
 ('(forward, head, C)', 1, NULL),
 ('(forward, head, C)', 2, NULL),
 ('(forward, head, C)', 3, NULL),
 ('(forward, head, C)', 4, NULL),
 ('(forward, head, C)', 5, NULL),
 ('(forward, head, C)', 6, NULL),
 ('(forward, head, D)', 1, NULL),
 ('(forward, head, D)', 2, NULL),
 ('(forward, head, D)', 3, NULL),
 ('(forward, head, D)', 4, NULL),
 ('(forward, head, D)', 5, NULL),
 ('(forward, head, D)', 6, NULL),
 ('(forward, head, E)', 1, NULL),
 ('(forward, head, E)', 2, NULL),
 ('(forward, head, E)', 3, NULL),
 ('(forward, head, E)', 4, NULL),
 ('(forward, head, E)', 5, NULL),
 ('(forward, head, E)', 6, NULL),
 ('(backward, tail, A)', 1, NULL),
 ('(backward, tail, A)', 2, NULL),
 ('(backward, tail, A)', 3, NULL),
 ('(backward, tail, A)', 4, NULL),
 ('(backward, tail, A)', 5, NULL),
 ('(backward, tail, A)', 6, NULL),
 ('(backward, tail, B)', 1, NULL),
 ('(backward, tail, B)', 2, NULL),
 ('(backward, tail, B)', 3, 'A'),
 ('(backward, tail, B)', 4, NULL),
 ('(backward, tail, B)', 5, NULL),
 ('(backward, tail, B)', 6, NULL),
 ('(backward, tail, C)', 1, NULL),
 ('(backward, tail, C)', 2, 'D'),
 ('(backward, tail, C)', 3, NULL),
 ('(backward, tail, C)', 4, 'B'),
 ('(backward, tail, C)', 5, 'A'),
 ('(backward, tail, C)', 6, 'B'),
 ('(backward, tail, D)', 1, 'C'),
 ('(backward, tail, D)', 2, NULL),
 ('(backward, tail, D)', 3, NULL),
 ('(backward, tail, D)', 4, NULL),
 ('(backward, tail, D)', 5, NULL),
 ('(backward, tail, D)', 6, NULL),
 ('(backward, tail, E)', 1, NULL),
 ('(backward, tail, E)', 2, NULL),
 ('(backward, tail, E)', 3, NULL),
 ('(backward, tail, E)', 4, NULL),
 ('(backward, tail, E)', 5, NULL),
 ('(backward, tail, E)', 6, NULL),
 ('(forward, head, A->B)', 1, 'C'),
 ('(forward, head, A->B)', 2, NULL),
 ('(forward, head, A->B)', 3, NULL),
 ('(forward, head, A->B)', 4, NULL),
 ('(forward, head, A->B)', 5, 'A'),
 ('(forward, head, A->B)', 6, 'A'),
 ('(forward, head, A->C)', 1, NULL),
 ('(forward, head, A->C)', 2, NULL),
 ('(forward, head, A->C)', 3, NULL),
 ('(forward, head, A->C)', 4, NULL),
 ('(forward, head, A->C)', 5, NULL),
 ('(forward, head, A->C)', 6, NULL),
 ('(forward, head, B->A)', 1, NULL),
 ('(forward, head, B->A)', 2, NULL),
 ('(forward, head, B->A)', 3, NULL),
 ('(forward, head, B->A)', 4, NULL),
 ('(forward, head, B->A)', 5, NULL),
 ('(forward, head, B->A)', 6, NULL),
 ('(backward, tail, A->B)', 1, NULL),
 ('(backward, tail, A->B)', 2, NULL),
 ('(backward, tail, A->B)', 3, NULL),
 ('(backward, tail, A->B)', 4, NULL),
 ('(backward, tail, A->B)', 5, NULL),
 ('(backward, tail, A->B)', 6, NULL),
 ('(backward, tail, A->C)', 1, NULL),
 ('(backward, tail, A->C)', 2, NULL),
 ('(backward, tail, A->C)', 3, NULL),
 ('(backward, tail, A->C)', 4, NULL),
 ('(backward, tail, A->C)', 5, NULL),
 ('(backward, tail, A->C)', 6, NULL),
 ('(backward, tail, B->A)', 1, NULL),
 ('(backward, tail, B->A)', 2, NULL),
 ('(backward, tail, B->A)', 3, NULL),
 ('(backward, tail, B->A)', 4, NULL),
 ('(backward, tail, B->A)', 5, NULL),
 ('(backward, tail, B->A)', 6, NULL),
 ('(forward, head, A->A->B)', 1, NULL),
 ('(forward, head, A->A->B)', 2, NULL),
 ('(forward, head, A->A->B)', 3, NULL),
 ('(forward, head, A->A->B)', 4, NULL),
 ('(forward, head, A->A->B)', 5, NULL),
 ('(forward, head, A->A->B)', 6, NULL),
 ('(forward, head, B->A->A)', 1, NULL),
 ('(forward, head, B->A->A)', 2, NULL),
 ('(forward, head, B->A->A)', 3, NULL),
 ('(forward, head, B->A->A)', 4, NULL),
 ('(forward, head, B->A->A)', 5, NULL),
 ('(forward, head, B->A->A)', 6, NULL),
 ('(backward, tail, A->A->B)', 1, NULL),
 ('(backward, tail, A->A->B)', 2, NULL),
 ('(backward, tail, A->A->B)', 3, NULL),
 ('(backward, tail, A->A->B)', 4, NULL),
 ('(backward, tail, A->A->B)', 5, NULL),
 ('(backward, tail, A->A->B)', 6, NULL),
 ('(backward, tail, B->A->A)', 1, NULL),
 ('(backward, tail, B->A->A)', 2, NULL),
 ('(backward, tail, B->A->A)', 3, NULL),
 ('(backward, tail, B->A->A)', 4, NULL),
 ('(backward, tail, B->A->A)', 5, NULL),
 ('(backward, tail, B->A->A)', 6, NULL);
CREATE TABLE got (label text, id int, got text);
INSERT INTO got SELECT '(forward, head, A)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, B)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, C)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'C') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, D)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'D') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, E)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'E') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, A)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, B)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, C)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'C') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, D)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'D') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, E)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'E') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, A->B)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, A->C)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A', action = 'C') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, B->A)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'B', action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, A->B)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'A', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, A->C)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'A', action = 'C') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, B->A)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'B', action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, A->A->B)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A', action = 'A', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, head, B->A->A)', id, sequence_next_node('forward', 'head', dt, action, true, action = 'B', action = 'A', action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, A->A->B)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'A', action = 'A', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, tail, B->A->A)', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'B', action = 'A', action = 'A') FROM nn GROUP BY id;

-- id 10: a row with a NULL value is left out
INSERT INTO nn VALUES ('2000-01-02 09:00:01',10,'A'), ('2000-01-02 09:00:02',10,'B'), ('2000-01-02 09:00:02',10,NULL),
 ('2000-01-02 09:00:03',10,'C'), ('2000-01-02 09:00:04',10,'D');
INSERT INTO got SELECT '(forward, head, A) id >= 10 #1', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO got SELECT '(forward, head, A->B) id >= 10 #2', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A', action = 'B') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO got SELECT '(forward, head, B->C) id >= 10 #3', id, sequence_next_node('forward', 'head', dt, action, true, action = 'B', action = 'C') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO got SELECT '(backward, tail, C) id >= 10 #4', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'C') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO got SELECT '(backward, tail, D->C) id >= 10 #5', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'D', action = 'C') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO got SELECT '(backward, tail, D->C->B) id >= 10 #6', id, sequence_next_node('backward', 'tail', dt, action, true, action = 'D', action = 'C', action = 'B') FROM nn WHERE id >= 10 GROUP BY id;
INSERT INTO ch_expected VALUES ('(forward, head, A) id >= 10 #1', 10, 'B'), ('(forward, head, A->B) id >= 10 #2', 10, 'C'), ('(forward, head, B->C) id >= 10 #3', 10, NULL), ('(backward, tail, C) id >= 10 #4', 10, NULL), ('(backward, tail, D->C) id >= 10 #5', 10, 'B'), ('(backward, tail, D->C->B) id >= 10 #6', 10, 'A');

-- id 11: four rows at one time, ordered by value (ClickHouse's .reference
-- gives how many groups have the value shown: 1 or 0)
INSERT INTO nn VALUES ('2000-01-02 09:00:01',11,'A'), ('2000-01-02 09:00:01',11,'B'), ('2000-01-02 09:00:01',11,'C'),
 ('2000-01-02 09:00:01',11,'D');
SELECT label, got, want, got = want AS ok FROM (
SELECT '(forward, head, A) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('forward', 'head', dt, action, true, action = 'A') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'B') AS got, 1 AS want
UNION ALL SELECT '(forward, head, C) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('forward', 'head', dt, action, true, action = 'C') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'D') AS got, 0 AS want
UNION ALL SELECT '(forward, head, B->C) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('forward', 'head', dt, action, true, action = 'B', action = 'C') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'D') AS got, 0 AS want
UNION ALL SELECT '(forward, head, A->B->C) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('forward', 'head', dt, action, true, action = 'A', action = 'B', action = 'C') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'D') AS got, 1 AS want
UNION ALL SELECT '(backward, tail, A) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('backward', 'tail', dt, action, true, action = 'A') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node IS NULL) AS got, 1 AS want
UNION ALL SELECT '(backward, tail, C) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('backward', 'tail', dt, action, true, action = 'C') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'B') AS got, 0 AS want
UNION ALL SELECT '(backward, tail, C->B) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('backward', 'tail', dt, action, true, action = 'C', action = 'B') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node = 'A') AS got, 0 AS want
UNION ALL SELECT '(backward, tail, C->B->A) id = 11' AS label, (SELECT count(*) FROM (SELECT sequence_next_node('backward', 'tail', dt, action, true, action = 'C', action = 'B', action = 'A') AS next_node FROM nn WHERE id = 11 GROUP BY id) s WHERE next_node IS NULL) AS got, 1 AS want) t;
INSERT INTO got SELECT '(forward, head)', id, sequence_next_node('forward', 'head', dt, action, true) FROM nn WHERE id < 10 GROUP BY id;
INSERT INTO got SELECT '(backward, tail)', id, sequence_next_node('backward', 'tail', dt, action, true) FROM nn WHERE id < 10 GROUP BY id;
INSERT INTO ch_expected VALUES ('(forward, head)', 1, 'A'),
 ('(forward, head)', 2, 'B'),
 ('(forward, head)', 3, 'A'),
 ('(forward, head)', 4, 'A'),
 ('(forward, head)', 5, 'A'),
 ('(forward, head)', 6, 'A'),
 ('(backward, tail)', 1, 'D'),
 ('(backward, tail)', 2, 'C'),
 ('(backward, tail)', 3, 'B'),
 ('(backward, tail)', 4, 'C'),
 ('(backward, tail)', 5, 'C'),
 ('(backward, tail)', 6, 'C');
INSERT INTO got SELECT '(forward, first_match, A)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, A->B)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'A', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, A->B->C)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'A', action = 'B', action = 'C') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, B)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, B->B)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'B', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, B->A)', id, sequence_next_node('forward', 'first_match', dt, action, true, action = 'B', action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, A)', id, sequence_next_node('backward', 'first_match', dt, action, true, action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, B)', id, sequence_next_node('backward', 'first_match', dt, action, true, action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, B->A)', id, sequence_next_node('backward', 'first_match', dt, action, true, action = 'B', action = 'A') FROM nn GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, B->B)', id, sequence_next_node('backward', 'first_match', dt, action, true, action = 'B', action = 'B') FROM nn GROUP BY id;
INSERT INTO got SELECT '(max_args)', id, sequence_next_node('forward', 'head', dt, action, true, action = '0', action = '1', action = '2', action = '3', action = '4', action = '5', action = '6', action = '7', action = '8', action = '9', action = '10', action = '11', action = '12', action = '13', action = '14', action = '15', action = '16', action = '17', action = '18', action = '19', action = '20', action = '21', action = '22', action = '23', action = '24', action = '25', action = '26', action = '27', action = '28', action = '29', action = '30', action = '31', action = '32', action = '33', action = '34', action = '35', action = '36', action = '37', action = '38', action = '39', action = '40', action = '41', action = '42', action = '43', action = '44', action = '45', action = '46', action = '47', action = '48', action = '49', action = '50', action = '51', action = '52', action = '53', action = '54', action = '55', action = '56', action = '57', action = '58', action = '59', action = '60', action = '61', action = '62', action = '63') FROM nn GROUP BY id;
INSERT INTO ch_expected VALUES
 ('(forward, first_match, A)', 1, 'B'),
 ('(forward, first_match, A)', 2, NULL),
 ('(forward, first_match, A)', 3, 'B'),
 ('(forward, first_match, A)', 4, 'A'),
 ('(forward, first_match, A)', 5, 'B'),
 ('(forward, first_match, A)', 6, 'B'),
 ('(forward, first_match, A)', 10, 'B'),
 ('(forward, first_match, A)', 11, 'B'),
 ('(forward, first_match, A->B)', 1, 'C'),
 ('(forward, first_match, A->B)', 2, NULL),
 ('(forward, first_match, A->B)', 3, NULL),
 ('(forward, first_match, A->B)', 4, NULL),
 ('(forward, first_match, A->B)', 5, 'A'),
 ('(forward, first_match, A->B)', 6, 'A'),
 ('(forward, first_match, A->B)', 10, 'C'),
 ('(forward, first_match, A->B)', 11, 'C'),
 ('(forward, first_match, A->B->C)', 1, 'D'),
 ('(forward, first_match, A->B->C)', 2, NULL),
 ('(forward, first_match, A->B->C)', 3, NULL),
 ('(forward, first_match, A->B->C)', 4, NULL),
 ('(forward, first_match, A->B->C)', 5, NULL),
 ('(forward, first_match, A->B->C)', 6, NULL),
 ('(forward, first_match, A->B->C)', 10, 'D'),
 ('(forward, first_match, A->B->C)', 11, 'D'),
 ('(forward, first_match, B)', 1, 'C'),
 ('(forward, first_match, B)', 2, 'B'),
 ('(forward, first_match, B)', 3, NULL),
 ('(forward, first_match, B)', 4, 'C'),
 ('(forward, first_match, B)', 5, 'A'),
 ('(forward, first_match, B)', 6, 'A'),
 ('(forward, first_match, B)', 10, 'C'),
 ('(forward, first_match, B)', 11, 'C'),
 ('(forward, first_match, B->B)', 1, NULL),
 ('(forward, first_match, B->B)', 2, 'D'),
 ('(forward, first_match, B->B)', 3, NULL),
 ('(forward, first_match, B->B)', 4, NULL),
 ('(forward, first_match, B->B)', 5, NULL),
 ('(forward, first_match, B->B)', 6, NULL),
 ('(forward, first_match, B->B)', 10, NULL),
 ('(forward, first_match, B->B)', 11, NULL),
 ('(forward, first_match, B->A)', 1, NULL),
 ('(forward, first_match, B->A)', 2, NULL),
 ('(forward, first_match, B->A)', 3, NULL),
 ('(forward, first_match, B->A)', 4, NULL),
 ('(forward, first_match, B->A)', 5, 'C'),
 ('(forward, first_match, B->A)', 6, 'B'),
 ('(forward, first_match, B->A)', 10, NULL),
 ('(forward, first_match, B->A)', 11, NULL),
 ('(backward, first_match, A)', 1, NULL),
 ('(backward, first_match, A)', 2, NULL),
 ('(backward, first_match, A)', 3, NULL),
 ('(backward, first_match, A)', 4, NULL),
 ('(backward, first_match, A)', 5, NULL),
 ('(backward, first_match, A)', 6, NULL),
 ('(backward, first_match, A)', 10, NULL),
 ('(backward, first_match, A)', 11, NULL),
 ('(backward, first_match, B)', 1, 'A'),
 ('(backward, first_match, B)', 2, NULL),
 ('(backward, first_match, B)', 3, 'A'),
 ('(backward, first_match, B)', 4, 'A'),
 ('(backward, first_match, B)', 5, 'A'),
 ('(backward, first_match, B)', 6, 'A'),
 ('(backward, first_match, B)', 10, 'A'),
 ('(backward, first_match, B)', 11, 'A'),
 ('(backward, first_match, B->A)', 1, NULL),
 ('(backward, first_match, B->A)', 2, NULL),
 ('(backward, first_match, B->A)', 3, NULL),
 ('(backward, first_match, B->A)', 4, 'A'),
 ('(backward, first_match, B->A)', 5, NULL),
 ('(backward, first_match, B->A)', 6, NULL),
 ('(backward, first_match, B->A)', 10, NULL),
 ('(backward, first_match, B->A)', 11, NULL),
 ('(backward, first_match, B->B)', 1, NULL),
 ('(backward, first_match, B->B)', 2, NULL),
 ('(backward, first_match, B->B)', 3, NULL),
 ('(backward, first_match, B->B)', 4, NULL),
 ('(backward, first_match, B->B)', 5, NULL),
 ('(backward, first_match, B->B)', 6, NULL),
 ('(backward, first_match, B->B)', 10, NULL),
 ('(backward, first_match, B->B)', 11, NULL),
 ('(max_args)', 1, NULL),
 ('(max_args)', 2, NULL),
 ('(max_args)', 3, NULL),
 ('(max_args)', 4, NULL),
 ('(max_args)', 5, NULL),
 ('(max_args)', 6, NULL),
 ('(max_args)', 10, NULL),
 ('(max_args)', 11, NULL);

-- id 12: two equal rows
INSERT INTO nn VALUES ('2000-01-02 09:00:01',12,'A'), ('2000-01-02 09:00:01',12,'A');
INSERT INTO got SELECT '(forward, head, A) id = 12', id, sequence_next_node('forward', 'head', dt, action, true, action = 'A') FROM nn WHERE id = 12 GROUP BY id;
INSERT INTO ch_expected VALUES ('(forward, head, A) id = 12', 12, 'A');

-- the base condition (ClickHouse's test_base_condition)
CREATE TABLE bc (dt timestamptz, id int, action text, referrer text);
INSERT INTO bc VALUES
 ('2000-01-02 09:00:01',1,'A','1'), ('2000-01-02 09:00:02',1,'B','2'), ('2000-01-02 09:00:03',1,'C','3'), ('2000-01-02 09:00:04',1,'D','4'),
 ('2000-01-02 09:00:01',2,'D','4'), ('2000-01-02 09:00:02',2,'C','3'), ('2000-01-02 09:00:03',2,'B','2'), ('2000-01-02 09:00:04',2,'A','1'),
 ('2000-01-02 09:00:01',3,'B','10'), ('2000-01-02 09:00:02',3,'B','2'), ('2000-01-02 09:00:03',3,'D','3'), ('2000-01-02 09:00:04',3,'C','4');
INSERT INTO got SELECT '(forward, head, 1)', id, sequence_next_node('forward', 'head', dt, action, referrer = '1') FROM bc GROUP BY id;
INSERT INTO got SELECT '(forward, head, 1, A)', id, sequence_next_node('forward', 'head', dt, action, referrer = '1', action = 'A') FROM bc GROUP BY id;
INSERT INTO got SELECT '(forward, head, 1, A->B)', id, sequence_next_node('forward', 'head', dt, action, referrer = '1', action = 'A', action = 'B') FROM bc GROUP BY id;
INSERT INTO got SELECT '(backward, tail, 1)', id, sequence_next_node('backward', 'tail', dt, action, referrer = '1') FROM bc GROUP BY id;
INSERT INTO got SELECT '(backward, tail, 1, A)', id, sequence_next_node('backward', 'tail', dt, action, referrer = '1', action = 'A') FROM bc GROUP BY id;
INSERT INTO got SELECT '(backward, tail, 1, A->B)', id, sequence_next_node('backward', 'tail', dt, action, referrer = '1', action = 'A', action = 'B') FROM bc GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, 1, B)', id, sequence_next_node('forward', 'first_match', dt, action, referrer = '2', action = 'B') FROM bc GROUP BY id;
INSERT INTO got SELECT '(forward, first_match, 1, B->C)', id, sequence_next_node('forward', 'first_match', dt, action, referrer = '2', action = 'B', action = 'C') FROM bc GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, 1, B)', id, sequence_next_node('backward', 'first_match', dt, action, referrer = '2', action = 'B') FROM bc GROUP BY id;
INSERT INTO got SELECT '(backward, first_match, 1, B->C)', id, sequence_next_node('backward', 'first_match', dt, action, referrer = '2', action = 'B', action = 'A') FROM bc GROUP BY id;
INSERT INTO ch_expected VALUES
 ('(forward, head, 1)', 1, 'A'),
 ('(forward, head, 1)', 2, NULL),
 ('(forward, head, 1)', 3, NULL),
 ('(forward, head, 1, A)', 1, 'B'),
 ('(forward, head, 1, A)', 2, NULL),
 ('(forward, head, 1, A)', 3, NULL),
 ('(forward, head, 1, A->B)', 1, 'C'),
 ('(forward, head, 1, A->B)', 2, NULL),
 ('(forward, head, 1, A->B)', 3, NULL),
 ('(backward, tail, 1)', 1, NULL),
 ('(backward, tail, 1)', 2, 'A'),
 ('(backward, tail, 1)', 3, NULL),
 ('(backward, tail, 1, A)', 1, NULL),
 ('(backward, tail, 1, A)', 2, 'B'),
 ('(backward, tail, 1, A)', 3, NULL),
 ('(backward, tail, 1, A->B)', 1, NULL),
 ('(backward, tail, 1, A->B)', 2, 'C'),
 ('(backward, tail, 1, A->B)', 3, NULL),
 ('(forward, first_match, 1, B)', 1, 'C'),
 ('(forward, first_match, 1, B)', 2, 'A'),
 ('(forward, first_match, 1, B)', 3, 'D'),
 ('(forward, first_match, 1, B->C)', 1, 'D'),
 ('(forward, first_match, 1, B->C)', 2, NULL),
 ('(forward, first_match, 1, B->C)', 3, NULL),
 ('(backward, first_match, 1, B)', 1, 'A'),
 ('(backward, first_match, 1, B)', 2, 'C'),
 ('(backward, first_match, 1, B)', 3, 'B'),
 ('(backward, first_match, 1, B->C)', 1, NULL),
 ('(backward, first_match, 1, B->C)', 2, NULL),
 ('(backward, first_match, 1, B->C)', 3, NULL);

-- every expected value has a result and every result an expected value
SELECT count(*) AS compared, count(*) FILTER (WHERE g.got IS NOT DISTINCT FROM e.want) AS equal
  FROM ch_expected e FULL JOIN got g USING (label, id);
SELECT e.label, e.id, e.want, g.got
  FROM ch_expected e FULL JOIN got g USING (label, id)
 WHERE g.got IS DISTINCT FROM e.want OR e.label IS NULL OR g.label IS NULL
 ORDER BY 1, 2;

-- the same through a parallel plan (partial states serialised and combined)
CREATE TABLE nn_big AS SELECT g * 100 + id AS id, dt + g * interval '1 second' AS dt, action FROM nn, generate_series(1, 2000) g;
ANALYZE nn_big;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE par AS SELECT id % 100 AS g, sequence_next_node('forward', 'first_match', dt, action, true, action = 'A', action = 'B') AS v
  FROM nn_big GROUP BY id % 100;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups, count(*) FILTER (WHERE p.v IS NOT DISTINCT FROM s.v) AS equal
  FROM par p JOIN (SELECT id % 100 AS g, sequence_next_node('forward', 'first_match', dt, action, true, action = 'A', action = 'B') AS v
                     FROM nn_big GROUP BY id % 100) s USING (g);
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size; RESET max_parallel_workers_per_gather;

-- errors
SELECT sequence_next_node('sideways', 'head', dt, action, true, action = 'A') FROM nn;
SELECT sequence_next_node('forward', 'middle', dt, action, true, action = 'A') FROM nn;
SELECT sequence_next_node('backward', 'head', dt, action, true, action = 'A') FROM nn;
SELECT sequence_next_node('forward', 'tail', dt, action, true, action = 'A') FROM nn;
SELECT sequence_next_node('forward', 'first_match', dt, action, true) FROM nn;
SELECT sequence_next_node(NULL, 'head', dt, action, true) FROM nn;
SELECT sequence_next_node('forward', 'head', dt, action, true, VARIADIC array_fill(true, ARRAY[65])) FROM nn;
SELECT sequence_next_node(CASE WHEN id = 1 THEN 'forward' ELSE 'backward' END, 'first_match', dt, action, true, action = 'A') FROM nn;
DROP TABLE nn, bc, ch_expected, got, nn_big, par;
