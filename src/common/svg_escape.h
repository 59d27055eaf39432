/*
 * src/common/svg_escape.h
 *    Text for SVG (XML) content and attribute values (common/svg_escape.c).
 */
#ifndef FUNNEL_SVG_ESCAPE_H
#define FUNNEL_SVG_ESCAPE_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern void funnel_svg_append_text(StringInfo buf, const char *s);

#endif							/* FUNNEL_SVG_ESCAPE_H */
