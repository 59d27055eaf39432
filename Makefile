# funnel: PGXS build.
#
# The version is written once, in funnel.control; released install and
# upgrade scripts (funnel--X.sql, funnel--X--Y.sql) are committed files that
# never change once released (doc/development.md).

EXTENSION = funnel
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = funnel
SRCS = $(sort $(wildcard src/*/*.c))
OBJS = $(SRCS:.c=.o)
FUNNEL_HEADERS = $(wildcard src/*/*.h)
DATA = $(wildcard $(EXTENSION)--*.sql)

# pg_regress runs every sql/*.sql in name order
REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION) --encoding=UTF8

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
# PostgreSQL's headers are not -Wextra clean: treat them as system headers so
# that -Wall -Wextra -Werror (the CI build) applies to our code only.  Our own
# headers are named from src/ ("engine/funnel.h").
PG_CPPFLAGS = -I$(CURDIR)/src -isystem $(shell $(PG_CONFIG) --includedir-server)
include $(PGXS)

# every object depends on every header of ours: a header change rebuilds all
$(OBJS): $(FUNNEL_HEADERS)

# the install script of the current version must exist
ifeq ($(wildcard $(EXTENSION)--$(EXTVERSION).sql),)
$(error $(EXTENSION)--$(EXTVERSION).sql is missing: funnel.control names version $(EXTVERSION))
endif
