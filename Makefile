# funnel: PGXS build.  The install script is assembled from sql/install/*.sql
# (one part per concern, applied in name order).
EXTENSION = funnel
MODULE_big = funnel
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA_built = funnel--1.0.sql
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))

# pg_regress runs every sql/*.sql (not the install parts) in name order.
REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=funnel --encoding=UTF8

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
# PostgreSQL's headers are not -Wextra clean: treat them as system headers so
# that -Wall -Wextra -Werror (the CI build) applies to our code only.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)
include $(PGXS)

funnel--1.0.sql: $(INSTALL_PARTS)
	cat $^ > $@

$(OBJS): src/funnel.h src/funnel_entities.h
