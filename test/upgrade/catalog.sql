-- Every object of the extension, one line each, with everything that defines
-- it: signature, result, volatility, strictness, parallel safety, settings and
-- body of functions; support functions of aggregates; types, operators,
-- operator classes and families with their members; casts; comments (on
-- the object and on its columns); owners, privileges and initial privileges;
-- the members of any other kind (tables, views, sequences) with their columns;
-- and first the extension's own row (version, schema, relocatable,
-- configuration tables, comment).
-- Two databases print the same lines exactly when their funnel objects are
-- the same.
\pset format unaligned
\pset tuples_only on
SELECT pg_catalog.concat_ws(' | ', 'extension', x.extname, x.extversion, x.extnamespace::regnamespace,
       pg_catalog.pg_get_userbyid(x.extowner), x.extrelocatable,
       (SELECT pg_catalog.array_agg(c::regclass ORDER BY c::regclass::text) FROM pg_catalog.unnest(x.extconfig) c),
       x.extcondition, 'comment: ' || pg_catalog.obj_description(x.oid, 'pg_extension'))
  FROM pg_catalog.pg_extension x WHERE x.extname = 'funnel';
WITH ext AS (
    SELECT objid, classid FROM pg_catalog.pg_depend
     WHERE refclassid = 'pg_catalog.pg_extension'::regclass AND deptype = 'e'
       AND refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'funnel')
), detail AS (
    SELECT e.classid, e.objid,
           CASE e.classid
           WHEN 'pg_catalog.pg_proc'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', p.prokind, p.proname,
                      pg_catalog.pg_get_function_arguments(p.oid),
                      pg_catalog.pg_get_function_result(p.oid),
                      p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, p.proleakproof,
                      p.procost, p.prorows, p.proretset, p.proconfig::text, p.probin, p.prosrc,
                      pg_catalog.pg_get_function_sqlbody(p.oid), p.prosupport::regprocedure,
                      pg_catalog.pg_get_userbyid(p.proowner), p.proacl::text,
                      (SELECT pg_catalog.concat_ws(' | ', a.aggkind, a.aggnumdirectargs,
                              a.aggtransfn::regprocedure, a.aggfinalfn::regprocedure,
                              a.aggcombinefn::regprocedure, a.aggserialfn::regprocedure,
                              a.aggdeserialfn::regprocedure, a.aggmtransfn::regprocedure,
                              a.aggminvtransfn::regprocedure, a.aggmfinalfn::regprocedure,
                              a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify,
                              a.aggsortop::regoperator, a.aggtranstype::regtype, a.aggtransspace,
                              a.aggmtranstype::regtype, a.aggmtransspace, a.agginitval, a.aggminitval)
                         FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid))
                 FROM pg_catalog.pg_proc p WHERE p.oid = e.objid)
           WHEN 'pg_catalog.pg_type'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', t.typname, t.typlen, t.typbyval, t.typtype, t.typcategory,
                      t.typispreferred, t.typdelim, t.typelem::regtype, t.typarray::regtype,
                      t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
                      t.typsend::regprocedure, t.typmodin::regprocedure, t.typmodout::regprocedure,
                      t.typanalyze::regprocedure, t.typsubscript::regprocedure, t.typalign, t.typstorage,
                      t.typnotnull, t.typbasetype::regtype, t.typcollation, t.typdefault,
                      pg_catalog.pg_get_userbyid(t.typowner), t.typacl::text,
                      (SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                         FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
                 FROM pg_catalog.pg_type t WHERE t.oid = e.objid)
           WHEN 'pg_catalog.pg_operator'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', o.oprname, o.oprkind, o.oprcanmerge, o.oprcanhash,
                      o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype,
                      o.oprcom::regoperator, o.oprnegate::regoperator, o.oprcode::regprocedure,
                      o.oprrest::regprocedure, o.oprjoin::regprocedure, pg_catalog.pg_get_userbyid(o.oprowner))
                 FROM pg_catalog.pg_operator o WHERE o.oid = e.objid)
           WHEN 'pg_catalog.pg_opclass'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', c.opcname, am.amname, c.opcdefault, c.opcintype::regtype,
                      c.opckeytype::regtype, f.opfname)
                 FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
                 JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily WHERE c.oid = e.objid)
           WHEN 'pg_catalog.pg_opfamily'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', f.opfname, am.amname,
                      (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', o.amopstrategy, o.amoplefttype::regtype,
                              o.amoprighttype::regtype, o.amopopr::regoperator, o.amoppurpose), ', '
                              ORDER BY o.amopstrategy, o.amoplefttype, o.amoprighttype)
                         FROM pg_catalog.pg_amop o WHERE o.amopfamily = f.oid),
                      (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', p.amprocnum, p.amproclefttype::regtype,
                              p.amprocrighttype::regtype, p.amproc::regprocedure), ', '
                              ORDER BY p.amprocnum, p.amproclefttype, p.amprocrighttype)
                         FROM pg_catalog.pg_amproc p WHERE p.amprocfamily = f.oid))
                 FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod WHERE f.oid = e.objid)
           WHEN 'pg_catalog.pg_cast'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', c.castsource::regtype, c.casttarget::regtype,
                      c.castfunc::regprocedure, c.castcontext, c.castmethod)
                 FROM pg_catalog.pg_cast c WHERE c.oid = e.objid)
           WHEN 'pg_catalog.pg_class'::regclass THEN (
               SELECT pg_catalog.concat_ws(' | ', c.relname, c.relkind, c.relpersistence,
                      pg_catalog.pg_get_userbyid(c.relowner), c.relacl::text, c.reloptions::text,
                      (SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                              || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                              || COALESCE(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), ''), ', '
                              ORDER BY a.attnum)
                         FROM pg_catalog.pg_attribute a
                         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                      CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END)
                 FROM pg_catalog.pg_class c WHERE c.oid = e.objid)
           ELSE pg_catalog.pg_identify_object_as_address(e.classid, e.objid, 0)::text
           END AS what
      FROM ext e
)
SELECT pg_catalog.concat_ws(' | ', pg_catalog.pg_describe_object(d.classid, d.objid, 0), d.what,
       'comment: ' || pg_catalog.obj_description(d.objid, d.classid::regclass::text),
       (SELECT 'column comments: ' || pg_catalog.string_agg(c.objsubid || ' ' || c.description, ', ' ORDER BY c.objsubid)
          FROM pg_catalog.pg_description c
         WHERE c.classoid = CASE WHEN d.classid = 'pg_catalog.pg_type'::regclass THEN 'pg_catalog.pg_class'::regclass ELSE d.classid END
           AND c.objoid = CASE WHEN d.classid = 'pg_catalog.pg_type'::regclass
                               THEN (SELECT t.typrelid FROM pg_catalog.pg_type t WHERE t.oid = d.objid) ELSE d.objid END
           AND c.objsubid > 0),
       (SELECT 'initial privileges: ' || pg_catalog.string_agg(i.privtype::text || ' ' || i.objsubid || ' ' || i.initprivs::text, ', '
                                                             ORDER BY i.objsubid)
          FROM pg_catalog.pg_init_privs i WHERE i.classoid = d.classid AND i.objoid = d.objid))
  FROM detail d
 ORDER BY 1;
-- functions, operators, operator classes and families and base or domain
-- types in the extension's schema that belong to no extension: an update that
-- left something behind (ALTER EXTENSION ... DROP) shows here
SELECT 'not a member: ' || pg_catalog.pg_describe_object(o.classid, o.objid, 0)
  FROM (SELECT 'pg_catalog.pg_proc'::regclass AS classid, p.oid AS objid, p.pronamespace AS nsp FROM pg_catalog.pg_proc p
        UNION ALL SELECT 'pg_catalog.pg_operator'::regclass, o.oid, o.oprnamespace FROM pg_catalog.pg_operator o
        UNION ALL SELECT 'pg_catalog.pg_opclass'::regclass, c.oid, c.opcnamespace FROM pg_catalog.pg_opclass c
        UNION ALL SELECT 'pg_catalog.pg_opfamily'::regclass, f.oid, f.opfnamespace FROM pg_catalog.pg_opfamily f
        UNION ALL SELECT 'pg_catalog.pg_type'::regclass, t.oid, t.typnamespace FROM pg_catalog.pg_type t
                   WHERE t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typrelid = 0
                     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.oid = t.typelem AND e.typrelid <> 0)) o
 WHERE o.nsp = (SELECT extnamespace FROM pg_catalog.pg_extension WHERE extname = 'funnel')
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                    WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e')
 ORDER BY 1;
