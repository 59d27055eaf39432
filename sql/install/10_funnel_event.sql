
-- ---------------------------------------------------------------------------
-- funnel_event: a timestamp and the set of funnel steps (1..64) it matches
-- ---------------------------------------------------------------------------

CREATE TYPE funnel_event;

CREATE FUNCTION funnel_event_in(cstring) RETURNS funnel_event
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_out(funnel_event) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_recv(internal) RETURNS funnel_event
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_send(funnel_event) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE funnel_event (
    INPUT = funnel_event_in,
    OUTPUT = funnel_event_out,
    RECEIVE = funnel_event_recv,
    SEND = funnel_event_send,
    INTERNALLENGTH = 16,
    ALIGNMENT = double,
    STORAGE = plain
);

COMMENT ON TYPE funnel_event IS 'One event of a journey: a timestamp and the set of funnel steps (1..64) it matches; text form ''2024-03-01 09:30:00+00 {1,3}''';
COMMENT ON FUNCTION funnel_event_in(cstring) IS 'Text input of funnel_event: a timestamptz literal followed by the step set in braces';
COMMENT ON FUNCTION funnel_event_out(funnel_event) IS 'Text output of funnel_event: the time in ISO 8601 at UTC and the step set';
COMMENT ON FUNCTION funnel_event_recv(internal) IS 'Binary input of funnel_event';
COMMENT ON FUNCTION funnel_event_send(funnel_event) IS 'Binary output of funnel_event';

CREATE FUNCTION funnel_event(ts timestamptz, step integer) RETURNS funnel_event
    AS 'MODULE_PATHNAME', 'funnel_event_from_step' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_event(timestamptz, integer) IS 'An event at ts matching one funnel step (1..64)';

CREATE FUNCTION funnel_event(ts timestamptz, VARIADIC steps boolean[]) RETURNS funnel_event
    AS 'MODULE_PATHNAME', 'funnel_event_from_conditions' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_event(timestamptz, boolean[]) IS 'An event at ts matching step k when the k-th condition is true (NULL counts as false)';

CREATE FUNCTION event_time(funnel_event) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'funnel_event_time' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION event_time(funnel_event) IS 'The time of a funnel event';

CREATE FUNCTION event_steps(funnel_event) RETURNS integer[]
    AS 'MODULE_PATHNAME', 'funnel_event_steps' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION event_steps(funnel_event) IS 'The funnel steps an event matches, in ascending order';

-- comparison: by time, then by the step set compared as a 64-bit mask
CREATE FUNCTION funnel_event_eq(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_ne(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_lt(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_le(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_gt(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_ge(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_cmp(funnel_event, funnel_event) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_hash(funnel_event) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_hash_extended(funnel_event, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION funnel_event_eq(funnel_event, funnel_event) IS 'Equal: same time and same steps';
COMMENT ON FUNCTION funnel_event_ne(funnel_event, funnel_event) IS 'Not equal';
COMMENT ON FUNCTION funnel_event_lt(funnel_event, funnel_event) IS 'Earlier (by time, then by step set)';
COMMENT ON FUNCTION funnel_event_le(funnel_event, funnel_event) IS 'Earlier or equal';
COMMENT ON FUNCTION funnel_event_gt(funnel_event, funnel_event) IS 'Later (by time, then by step set)';
COMMENT ON FUNCTION funnel_event_ge(funnel_event, funnel_event) IS 'Later or equal';
COMMENT ON FUNCTION funnel_event_cmp(funnel_event, funnel_event) IS 'Btree comparison of funnel events';
COMMENT ON FUNCTION funnel_event_hash(funnel_event) IS 'Hash of a funnel event';
COMMENT ON FUNCTION funnel_event_hash_extended(funnel_event, bigint) IS 'Seeded 64-bit hash of a funnel event';

CREATE OPERATOR = (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS funnel_event_ops DEFAULT FOR TYPE funnel_event USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 funnel_event_cmp(funnel_event, funnel_event);

CREATE OPERATOR CLASS funnel_event_hash_ops DEFAULT FOR TYPE funnel_event USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 funnel_event_hash(funnel_event),
    FUNCTION 2 funnel_event_hash_extended(funnel_event, bigint);
