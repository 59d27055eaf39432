#!/usr/bin/env python3
"""sequence_match and sequence_count against a real ClickHouse server (the
clickhouse-server of Debian, 18.16, which bench/run.sh also uses) on random
groups without ties (ClickHouse orders rows at one time arbitrarily): a
check by hand, not part of test/run.sh.  Left out: (?t==S), which 18.16
lacks, and patterns ending in an action an empty rest satisfies (".*",
(?t<S), (?t<=S), (?t>=0)), where ClickHouse reads past the end of its
pattern.  Starts a throwaway ClickHouse on
127.0.0.1:$CH_PORT (default 19612), needs a database with the extension
(psql, PG* environment, e.g. under test/tools/sandbox.sh).

    bash test/tools/sandbox.sh python3 test/tools/sequence_clickhouse.py [patterns] [seed]

Prints "N passed, M failed".
"""
import os, random, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sequence_reference as ref

PORT = int(os.environ.get('CH_PORT', '19612'))


def start_clickhouse():
    d = tempfile.mkdtemp(prefix='funnel-ch-')
    for sub in ('data', 'tmp', 'log', 'user_files', 'format_schemas'):
        os.makedirs(os.path.join(d, sub))
    open(os.path.join(d, 'config.xml'), 'w').write(f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host><tcp_port>{PORT}</tcp_port>
  <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path><user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
</yandex>""")
    open(os.path.join(d, 'users.xml'), 'w').write("""<?xml version="1.0"?>
<yandex>
  <profiles><default><max_threads>1</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>""")
    proc = subprocess.Popen(['clickhouse-server', '--config-file=' + os.path.join(d, 'config.xml')],
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(60):
        if subprocess.run(ch_cmd('SELECT 1'), capture_output=True).returncode == 0:
            return proc, d
        time.sleep(1)
    proc.kill()
    sys.exit('ClickHouse did not start')


def ch_cmd(q):
    return ['clickhouse-client', '--host', '127.0.0.1', '--port', str(PORT), '--query', q]


def ch(q, stdin=None):
    p = subprocess.run(ch_cmd(q), input=stdin, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    npat = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    print('sequence vs ClickHouse: %d patterns, seed %d' % (npat, seed))
    proc, d = start_clickhouse()
    passed = failed = 0
    try:
        print('ClickHouse', ch('SELECT version()')[1].strip())
        ch('CREATE TABLE t (g UInt32, ts DateTime, c1 UInt8, c2 UInt8, c3 UInt8, c4 UInt8) ENGINE = Memory')
        rows = []
        for g in range(200):
            t = 1700000000
            for _ in range(rng.randint(1, 15)):
                t += rng.choice([1, 2, 3, 5, 60])          # distinct seconds: no ties
                rows.append((g, t, [rng.random() < 0.35 for _ in range(4)]))
        rng.shuffle(rows)
        tsv = ''.join('%d\t%d\t%s\n' % (g, t, '\t'.join('1' if c else '0' for c in cs)) for g, t, cs in rows)
        ch('INSERT INTO t FORMAT TabSeparated', tsv)
        copy = ''.join('%d\t%s\t{%s}\n' % (g, ref.ts_text(t * 1000000), ','.join('t' if c else 'f' for c in cs))
                       for g, t, cs in rows)
        ref.psql('DROP TABLE IF EXISTS seq_ch; CREATE TABLE seq_ch (g int, ts timestamptz, c boolean[])')
        ref.psql('COPY seq_ch FROM STDIN', copy)
        tried = set()
        skipped_ub = set()
        while len(tried) < npat:
            p = ref.random_pattern(rng, 4)
            if '==' in p or p in tried:     # (?t==S) came after 18.16
                continue
            # a pattern that ends in ".*", (?t<S), (?t<=S) or (?t>=0) makes
            # ClickHouse's backtracking read past the end of its actions when
            # the events run out first (undefined behaviour: its answers
            # then vary); doc/sequences.md says what we do instead
            last = ref.Pattern(p, 5).actions[-1]
            if last[0] in (ref.KLEENE, ref.T_LE, ref.T_LT) or (last[0] == ref.T_GE and last[1] == 0):
                skipped_ub.add(p)
                continue
            tried.add(p)
            rc, out, err = ch("SELECT g, sequenceMatch('%s')(ts, c1, c2, c3, c4), sequenceCount('%s')(ts, c1, c2, c3, c4) "
                              "FROM t GROUP BY g ORDER BY g FORMAT TabSeparated" % (p, p))
            want = None if rc != 0 else [tuple(l.split('\t')) for l in out.splitlines()]
            pg = subprocess.run(['psql', '-X', '-q', '-A', '-t', '-F', '\t', '-c',
                                 "SELECT g, sequence_match('%s', ts, VARIADIC c)::int, sequence_count('%s', ts, VARIADIC c) "
                                 "FROM seq_ch GROUP BY g ORDER BY g" % (p, p)], capture_output=True, text=True)
            got = None if pg.returncode != 0 else [tuple(l.split('\t')) for l in pg.stdout.splitlines()]
            if got == want:
                passed += 1
            else:
                failed += 1
                if failed <= 10:
                    diff = [(a, b) for a, b in zip(got or [], want or []) if a != b][:3]
                    print('FAILED pattern %r: ours %s, ClickHouse %s %s' % (
                        p, 'error' if got is None else 'answers', 'error ' + err.strip()[:200] if want is None else 'answers', diff))
        ref.psql('DROP TABLE seq_ch')
        print('left out %d patterns with trailing actions (ClickHouse reads past its pattern)' % len(skipped_ub))
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(d, ignore_errors=True)
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
