/*
 * src/paths/event_log.h
 *    The per-entity rows of the paths and correlation aggregates, kept in
 *    the engine's journey log (engine/journey_log.h): every use of the
 *    journey log by these aggregates is in paths/event_log.c, so that moving
 *    them to another per-entity store changes that file only.
 */
#ifndef FUNNEL_EVENT_LOG_H
#define FUNNEL_EVENT_LOG_H

#include "postgres.h"

#include "fmgr.h"
#include "engine/journey_log.h"
#include "lib/stringinfo.h"

/* One event of an entity's journey, as the final functions read it. */
typedef struct EventRow
{
	int64		ts;
	int32		name;			/* name id, see EventJourneys.names */
	int32		rank;			/* position of the name in byte order */
} EventRow;

/*
 * Every entity's events, in time order (events at one time in byte order of
 * their names): rows[starts[e]] .. rows[starts[e + 1] - 1] are entity e's.
 */
typedef struct EventJourneys
{
	uint32		nent;
	uint64	   *starts;
	EventRow   *rows;
	int32		nnames;
	char	  **names;			/* NUL-terminated */
	int32	   *name_lens;
	int32	   *ranks;			/* rank of each name id */
	Size		bytes;			/* the state and these journeys, for the cap */
} EventJourneys;

extern JourneyLog *event_log_create(FunctionCallInfo fcinfo, MemoryContext cxt,
									int entity_arg);
extern JourneyLog *event_log_create_like(FunctionCallInfo fcinfo, MemoryContext cxt,
										 const JourneyLog *other);
extern void event_log_add(JourneyLog *log, Datum entity, int64 ts, text *event);
extern void event_log_add_tagged(JourneyLog *log, Datum entity, int64 ts, char tag,
								 const char *value, int len);
extern void event_log_merge(JourneyLog *into, const JourneyLog *from);
extern void event_log_serialize(const JourneyLog *log, StringInfo buf);
extern JourneyLog *event_log_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt,
										 StringInfo buf);
extern int32 event_log_find_name(const JourneyLog *log, const char *name, int len);
extern void event_log_journeys(const JourneyLog *log, bool ordered, EventJourneys *out);

#endif							/* FUNNEL_EVENT_LOG_H */
