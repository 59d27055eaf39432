/*
 * src/paths/event_log.c
 *    (entity, time, event name) rows of the paths and correlation
 *    aggregates in the engine's journey log, and the journeys the final
 *    functions read: each entity's events sorted by time, events at one time
 *    in byte order of their names, so that the answer does not depend on the
 *    order rows arrive in (parallel plans, merged states).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "engine/funnel.h"
#include "miscadmin.h"
#include "paths/event_log.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/*
 * Entity types whose values a serialised state can carry safely: fixed
 * length, or one of the variable-length types whose hash and equality read
 * nothing but the value's bytes (text, varchar, bpchar, bytea, numeric),
 * or a domain over one.  A deserialised value is only checked for its
 * length, so a container (array, int2vector), a composite or a range, whose
 * functions trust headers inside the value, must not be read back.
 */
static bool
entity_type_ok(Oid typid)
{
	Oid			base = getBaseType(typid);
	int16		len;
	bool		byval;

	get_typlenbyval(base, &len, &byval);
	if (len > 0)
		return true;
	return len == -1 && (base == TEXTOID || base == VARCHAROID || base == BPCHAROID ||
						 base == BYTEAOID || base == NUMERICOID);
}

JourneyLog *
event_log_create(FunctionCallInfo fcinfo, MemoryContext cxt, int entity_arg)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, entity_arg);

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_INDETERMINATE_DATATYPE),
				 errmsg("could not determine the data type of the entity argument")));
	if (!entity_type_ok(typid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("entity type %s is not supported", format_type_be(typid)),
				 errdetail("Paths and correlation take entities of a fixed-length type, or of text, varchar, char, bytea or numeric."),
				 errhint("Cast the entity to text.")));
	return jlog_create(fcinfo, cxt, typid, PG_GET_COLLATION());
}

JourneyLog *
event_log_create_like(FunctionCallInfo fcinfo, MemoryContext cxt, const JourneyLog *other)
{
	return jlog_create(fcinfo, cxt, other->typid, other->collation);
}

void
event_log_add(JourneyLog *log, Datum entity, int64 ts, text *event)
{
	int32		code = jlog_name(log, VARDATA_ANY(event), VARSIZE_ANY_EXHDR(event));

	jlog_add(log, entity, ts, code);
}

/*
 * A row whose name is tag followed by value: one log holds names of several
 * kinds (the correlation aggregate's events and property values).
 */
void
event_log_add_tagged(JourneyLog *log, Datum entity, int64 ts, char tag,
					 const char *value, int len)
{
	char		local[256];
	char	   *name = len < (int) sizeof(local) ? local : palloc(len + 1);
	int32		code;

	name[0] = tag;
	memcpy(name + 1, value, len);
	code = jlog_name(log, name, len + 1);
	if (name != local)
		pfree(name);
	jlog_add(log, entity, ts, code);
}

void
event_log_merge(JourneyLog *into, const JourneyLog *from)
{
	jlog_merge(into, from);
}

void
event_log_serialize(const JourneyLog *log, StringInfo buf)
{
	jlog_serialize(log, buf);
}

/* Reads a log back; only name rows (no values) belong to these aggregates. */
JourneyLog *
event_log_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, StringInfo buf)
{
	JourneyLog *log;

	/* the entity type follows the log's 4-byte header: check it first */
	if (buf->len - buf->cursor >= 8)
	{
		uint32		net;
		Oid			typid;

		memcpy(&net, buf->data + buf->cursor + 4, sizeof(net));
		typid = pg_ntoh32(net);
		if (OidIsValid(typid) && SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)) &&
			!entity_type_ok(typid))
			funnel_invalid_state("The entity type of the state cannot be read back.");
	}
	log = jlog_deserialize(fcinfo, cxt, buf);

	if (log->nvals != 0)
		funnel_invalid_state("An event log holds numeric values.");
	return log;
}

/* The id of a name in the log, -1 if no row has it. */
int32
event_log_find_name(const JourneyLog *log, const char *name, int len)
{
	int32		i;

	for (i = 0; i < log->nnames; i++)
		if (log->namelens[i] == len && memcmp(log->names[i], name, len) == 0)
			return i;
	return -1;
}

static int
event_row_cmp(const void *a, const void *b)
{
	const EventRow *x = a;
	const EventRow *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/*
 * Every entity's rows as journeys sorted by time.  ordered: the entities in
 * the same order in every plan (jlog_foreach); otherwise in any order, for
 * results that are counts over the entities.
 */
void
event_log_journeys(const JourneyLog *log, bool ordered, EventJourneys *out)
{
	uint64	   *starts;
	JourneyRow *grouped;
	EventRow   *rows;
	uint64		i;
	uint32		e,
				nent;

	/* every row at once (jlog_group checks it against funnel.max_state_memory) */
	grouped = jlog_group(log, ordered, &starts, &nent);
	/* the state and its grouped copy count against funnel.max_state_memory */
	out->bytes = log->mem + log->store->mem + sizeof(JourneyRow) * (Size) log->nrows +
		2 * sizeof(uint64) * ((Size) nent + 1) + 2 * sizeof(int32) * ((Size) log->nnames + 1);
	funnel_check_memory(out->bytes);

	out->ranks = jlog_name_ranks(log);
	/* the grouped copy becomes the journeys in place: rows of the same size */
	StaticAssertStmt(sizeof(EventRow) == sizeof(JourneyRow), "EventRow and JourneyRow differ in size");
	rows = (EventRow *) grouped;
	for (i = 0; i < log->nrows; i++)
	{
		JourneyRow	jr = grouped[i];

		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		rows[i].ts = jr.ts;
		rows[i].name = jr.code;
		rows[i].rank = out->ranks[jr.code];
	}
	for (e = 0; e < nent; e++)
	{
		EventRow   *r = rows + starts[e];
		uint64		n = starts[e + 1] - starts[e];
		uint64		k;

		CHECK_FOR_INTERRUPTS();
		/* rows mostly arrive in time order: sort only when they did not */
		for (k = 1; k < n; k++)
			if (event_row_cmp(&r[k - 1], &r[k]) > 0)
				break;
		if (k < n)
			qsort(r, n, sizeof(EventRow), event_row_cmp);
	}
	out->nent = nent;
	out->starts = starts;
	out->rows = rows;
	out->nnames = log->nnames;
	out->names = log->names;
	out->name_lens = log->namelens;
}
