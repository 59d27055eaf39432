/*
 * src/common/json_fields.c
 *    The JSON text forms of the summary types: numbers and durations written
 *    the same way by every output function, and the fields of the object
 *    read back by the input functions, each checked for its JSON type.
 */
#include "postgres.h"

#include <math.h>

#include "common/interval_usecs.h"
#include "common/json_fields.h"
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* A number, or null when it is not finite (no "-0"). */
void
funnel_json_double(StringInfo buf, double v)
{
	char		s[64];

	if (isnan(v) || isinf(v))
		appendStringInfoString(buf, "null");
	else
	{
		if (v == 0)
			v = 0;				/* no "-0" */
		double_to_shortest_decimal_buf(v, s);
		appendStringInfoString(buf, s);
	}
}

/* A duration as a JSON string of interval text. */
void
funnel_json_interval(StringInfo buf, int64 usecs)
{
	escape_json(buf, funnel_usecs_text(usecs));
}

/* The error of a type's text input that is not what its output gives. */
void
funnel_bad_text_input(const char *tname, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s", tname),
			 errdetail("%s", detail)));
}

/* The text as a JSON object. */
JsonbContainer *
funnel_json_object(const char *str, const char *tname)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));

	if (!JB_ROOT_IS_OBJECT(jb))
		funnel_bad_text_input(tname, "Expected a JSON object.");
	return &jb->root;
}

/* Key of the object, which must have the JSON type (or be null when null_ok). */
JsonbValue *
funnel_json_get(JsonbContainer *obj, const char *key, enum jbvType type, bool null_ok,
			  const char *tname)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL)
		funnel_bad_text_input(tname, psprintf("Key \"%s\" is missing.", key));
	if (v->type == jbvNull && null_ok)
		return v;
	if (v->type != type)
		funnel_bad_text_input(tname, psprintf("Key \"%s\" has the wrong JSON type.", key));
	return v;
}

/* A JSON number as a finite double. */
double
funnel_json_number(JsonbValue *v, const char *key, const char *tname)
{
	double		d;

	if (v->type != jbvNumeric)
		funnel_bad_text_input(tname, psprintf("Key \"%s\" must be a number.", key));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (isnan(d) || isinf(d))
		funnel_bad_text_input(tname, psprintf("Key \"%s\" must be a finite number.", key));
	return d;
}

/* A JSON string as a C string. */
char *
funnel_json_string(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A JSON string of interval text in microseconds (see funnel_interval_usecs). */
int64
funnel_json_interval_usecs(JsonbValue *v, const char *key, bool positive, const char *tname)
{
	Interval   *iv;

	if (v->type != jbvString)
		funnel_bad_text_input(tname, psprintf("Key \"%s\" must be an interval string.", key));
	iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(funnel_json_string(v)),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return funnel_interval_usecs(iv, key, positive);
}

/* Key of the object as a whole number, 0 or more (a count). */
int64
funnel_json_count(JsonbContainer *obj, const char *key, const char *tname)
{
	double		d = funnel_json_number(funnel_json_get(obj, key, jbvNumeric, false, tname),
									   key, tname);

	if (d < 0 || d > (double) FUNNEL_JSON_MAX_COUNT || d != floor(d))
		funnel_bad_text_input(tname, psprintf("Key \"%s\" must be a whole number, 0 or more.", key));
	return (int64) d;
}
