# Sourced by bench/ab.sh, bench/instructions.sh and bench/against_1_0.sh
# (after bench/cluster.sh): a git revision of the
# extension built in a temporary worktree and loaded into a schema of its
# own in the harness's cluster, beside the harness's copy.  Expects ROOT
# (the checkout), WORK (a temporary folder), LIB (where the libraries go)
# and AS (a command prefix that runs as the cluster's owner, may be empty).

# build_revision REV NAME: worktree $WORK/NAME, library $LIB/NAME.so, its
# install script for schema NAME in $WORK/NAME.sql
build_revision() {
  local rev=$1 name=$2 version
  git -C "$ROOT" worktree add --detach "$WORK/$name" "$rev" >/dev/null 2>&1 \
    || { echo "cannot check out $rev" >&2; return 1; }
  echo "[bench] building $name: $(git -C "$WORK/$name" log --oneline -1)" >&2
  make -s -C "$WORK/$name" >/dev/null
  version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$WORK/$name/funnel.control")
  "${AS[@]}" mkdir -p "$LIB"
  install -m 0644 "$WORK/$name/funnel.so" "$LIB/$name.so"
  # the install script into schema NAME, pointed at that build
  sed -e "s|MODULE_PATHNAME|$LIB/$name.so|g" -e "s|@extschema@|$name|g" -e '/^\\echo/d' \
    -e '/pg_extension_config_dump/d' "$WORK/$name/funnel--$version.sql" > "$WORK/$name.sql"
}

# load_revision NAME: schema NAME made anew from $WORK/NAME.sql (the
# cluster running)
load_revision() {
  local name=$1
  psql -X -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $name CASCADE" -c "CREATE SCHEMA $name" >/dev/null 2>&1
  # each session loads its own build at start (the harness's bench.conf would
  # preload the harness's copy, whose settings and hook would clash)
  PGOPTIONS="-c search_path=$name -c session_preload_libraries=$LIB/$name.so" \
    psql -X -q -v ON_ERROR_STOP=1 -f "$WORK/$name.sql" >/dev/null 2>&1 \
    || { echo "loading build $name failed" >&2; return 1; }
}

# remove_worktrees: every worktree build_revision made under $WORK
remove_worktrees() {
  local w
  for w in "$WORK"/*/; do
    [ -e "$w/.git" ] && git -C "$ROOT" worktree remove --force "$w" >/dev/null 2>&1 || true
  done
}
