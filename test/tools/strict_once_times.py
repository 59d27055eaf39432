#!/usr/bin/env python3
"""Differential check of strict_once levels and times to each step: the
journey forms window_funnel(window, funnel_event[], mode) and
time_to_convert(window, funnel_event[], mode, to_step) against a literal
transcription of the spec's strict_once walk (every chain kept with its
rows, as test/tools/differential.py), extended with the time of the first
chain to reach each step.  Random journeys heavy in ties and rows matching
several steps, every mode combined with strict_once.  Needs a database with
the extension (psql on PATH, PG* environment variables).

    test/tools/strict_once_times.py [journeys] [seed] [ties]

ties = 1 puts the rows on 3 timestamps instead of 11, with more steps each.
Exits 1 on any difference.
"""
import random, subprocess, sys, itertools
def reference(rows, window, nsteps, modes):
    dedup='strict_deduplication' in modes; order='strict_order' in modes; inc='strict_increase' in modes; reentry='allow_reentry' in modes
    ev=[]
    for rid,(ts,steps) in enumerate(rows):
        hit=False
        for k in steps: ev.append((ts,k,rid)); hit=True
        if order and not hit: ev.append((ts,0,rid))
    elapsed={}
    if not ev: return 0, elapsed
    ev.sort(key=lambda e:(e[0],e[1],e[2]))
    seqs=[[] for _ in range(nsteps)]; has_first=False
    def top():
        for k in range(nsteps,0,-1):
            if seqs[k-1]: return k
        return 0
    def app(i,f,ts,path):
        if not seqs[i] and i not in elapsed: elapsed[i]=ts-f
        seqs[i].append((f,ts,path))
    for ts,k,rid in ev:
        i=k-1
        if order and i==-1:
            if has_first: break
            continue
        if i==0:
            app(0,ts,ts,[rid]); has_first=True
            if nsteps==1: return 1, elapsed
        elif dedup and seqs[i]: return top(), elapsed
        elif order and has_first and not seqs[i-1]:
            if reentry: continue
            for j in range(nsteps):
                if not seqs[j]: return j, elapsed
        elif seqs[i-1]:
            prev=seqs[i-1]; j=0
            while j<len(prev):
                f,l,path=prev[j]
                ok=ts<=f+window
                if not ok and len(prev)>1: del prev[j]; continue
                if ok: ok=rid not in path[:i]
                if ok and inc: ok=l<ts
                if ok:
                    app(i,f,ts,path[:i]+[rid])
                    if i+1==nsteps: return nsteps, elapsed
                j+=1
    return top(), elapsed

rnd=random.Random(int(sys.argv[2]) if len(sys.argv)>2 else 1)
N=int(sys.argv[1]) if len(sys.argv)>1 else 300
ties=len(sys.argv)>3 and sys.argv[3]=='1'
names=['strict_deduplication','strict_order','strict_increase']
modesets=[]
for r in range(0,4):
    for c in itertools.combinations(names,r): modesets.append(('strict_once',)+c)
modesets += [m+('allow_reentry',) for m in modesets if 'strict_order' in m]
cases=[]
for e in range(N):
    nrows=rnd.randint(0,14)
    maxstep=rnd.choice([2,3,4,5])
    rows=[(rnd.randint(0,2 if ties else 10), sorted(set(k for k in range(1,maxstep+1) if rnd.random()<(0.6 if ties else 0.35)))) for _ in range(nrows)]
    window=rnd.choice([0,1,2,3,5,100])
    mode=rnd.choice(modesets)
    cases.append((rows,window,mode,maxstep))
sql=["SET TimeZone='UTC';","\\pset format unaligned","\\pset tuples_only on"]
for ci,(rows,window,mode,maxstep) in enumerate(cases):
    arr="ARRAY[%s]::funnel_event[]"%(",".join("'%s {%s}'"%( "1970-01-01 00:00:%02d+00"%ts, ",".join(map(str,st))) for ts,st in rows)) if rows else "ARRAY[]::funnel_event[]"
    for k in range(1,maxstep+1):
        sql.append("SELECT %d, %d, window_funnel(make_interval(secs=>%d), %s, '%s'), extract(epoch from time_to_convert(make_interval(secs=>%d), %s, '%s', %d));"%(ci,k,window,arr,",".join(mode),window,arr,",".join(mode),k))
p=subprocess.run(["psql","-X","-q","-v","ON_ERROR_STOP=1"],input="\n".join(sql),capture_output=True,text=True)
if p.returncode: print(p.stderr); sys.exit(2)
bad=0; tot=0
for line in p.stdout.splitlines():
    ci,k,lvl,el=line.split('|'); ci=int(ci); k=int(k)
    rows,window,mode,maxstep=cases[ci]
    want_lvl, want_el = reference(rows,window,64,set(mode))
    want = (want_el.get(k-1) if want_lvl>=k else None)
    have = None if el=='' else int(float(el))
    tot+=1
    if int(lvl)!=want_lvl or want!=have:
        bad+=1
        if bad<=5: print("MISMATCH", mode, window, rows, k, "lvl", lvl, want_lvl, "el", have, want)
print("strict_once levels and times: %d cases agree, %d differ"%(tot-bad,bad))
sys.exit(1 if bad else 0)
