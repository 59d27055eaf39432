/*
 * src/engine/journey_log.h
 *    A compact log of (entity, time, code) rows kept by the attribution and
 *    pipeline aggregates (see journey_log.c): entities hashed with their
 *    type's default hash opclass, names (channels, stages) interned into small
 *    integer ids, and every row appended as 16 bytes.  The final functions
 *    group the rows by entity with a counting sort, without touching the log.
 */
#ifndef JOURNEY_LOG_H
#define JOURNEY_LOG_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

/* One row: code >= 0 is a name id, code < 0 is aggregate-specific. */
typedef struct JourneyRow
{
	int64		ts;
	uint32		ent;			/* entity index */
	int32		code;
} JourneyRow;

typedef struct JourneyLog
{
	MemoryContext cxt;
	/* the entity type */
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	char		fast;			/* 'l' int8, 'i' int4: compare Datums; 'g' generic */
	FmgrInfo   *hash_fn;
	FmgrInfo   *eq_fn;
	/* entities: values, hashes, and an open-addressing index of them */
	uint32		nent;
	uint32		entcap;
	Datum	   *ents;
	uint32	   *enthash;
	uint32	   *slots;			/* entity index + 1, 0 = empty */
	uint32		nslots;			/* power of two */
	uint32		last_ent;		/* previous row's entity (UINT32_MAX: none) */
	/* names */
	int32		nnames;
	int32		namecap;
	char	  **names;
	int32	   *namelens;
	uint32	   *namehash;
	int32	   *nslot;			/* name id + 1, 0 = empty */
	int32		nnslots;
	int32		last_name;		/* previous row's name id (-1: none) */
	/* rows */
	uint64		nrows;
	uint64		rowcap;
	JourneyRow *rows;
	/* per-row extra numbers (conversion values), code -1 - k refers to vals[k] */
	uint64		nvals;
	uint64		valcap;
	double	   *vals;
	Size		mem;			/* bytes allocated, for funnel.max_state_memory */
} JourneyLog;

extern JourneyLog *jlog_create(MemoryContext cxt, Oid typid, Oid collation);
extern uint32 jlog_entity(JourneyLog *log, Datum key);
extern int32 jlog_name(JourneyLog *log, const char *name, int len);
extern void jlog_add(JourneyLog *log, uint32 ent, int64 ts, int32 code);
extern int32 jlog_add_value(JourneyLog *log, double v);
extern void jlog_merge(JourneyLog *a, const JourneyLog *b);
extern void jlog_serialize(const JourneyLog *log, StringInfo buf);
extern JourneyLog *jlog_deserialize(MemoryContext cxt, StringInfo buf);
extern int32 *jlog_name_ranks(const JourneyLog *log);
extern JourneyRow *jlog_group(const JourneyLog *log, uint64 **starts);

#endif							/* JOURNEY_LOG_H */
