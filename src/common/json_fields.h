/*
 * src/common/json_fields.h
 *    Writing numbers and durations into JSON text, and reading the fields of
 *    a JSON object given as a type's text input (common/json_fields.c).
 *    tname is the type whose input is read, for its errors.
 */
#ifndef FUNNEL_JSON_FIELDS_H
#define FUNNEL_JSON_FIELDS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * The largest count the JSON forms hold exactly (their numbers are read as
 * doubles): binary input accepts no more, so that every value read has a
 * text form that reads back.
 */
#define FUNNEL_JSON_MAX_COUNT INT64CONST(9000000000000000)

extern void funnel_json_double(StringInfo buf, double v);
extern void funnel_json_interval(StringInfo buf, int64 usecs);

extern void funnel_bad_text_input(const char *tname, const char *detail) pg_attribute_noreturn();
extern JsonbContainer *funnel_json_object(const char *str, const char *tname);
extern JsonbValue *funnel_json_get(JsonbContainer *obj, const char *key,
								   enum jbvType type, bool null_ok, const char *tname);
extern double funnel_json_number(JsonbValue *v, const char *key, const char *tname);
extern int64 funnel_json_count(JsonbContainer *obj, const char *key, const char *tname);
extern char *funnel_json_string(JsonbValue *v);
extern int64 funnel_json_interval_usecs(JsonbValue *v, const char *key, bool positive,
										const char *tname);

#endif							/* FUNNEL_JSON_FIELDS_H */
