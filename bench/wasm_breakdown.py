# Code size of a wasm module by crate and by function, from its name section.
# usage: wasm_breakdown.py FILE.wasm [TOP] [PATTERN,PATTERN...] [CRATE]  (bench/wasm_breakdown.sh runs it)
# PATTERN: the code size of the functions whose name contains it; CRATE: that crate's largest
# functions (TOP of them). An empty argument is skipped.
import sys, subprocess, collections, re
data = open(sys.argv[1],'rb').read()
def leb(b,i):
    r=s=0
    while True:
        x=b[i]; i+=1; r|=(x&0x7f)<<s; s+=7
        if x<0x80: return r,i
i=8; secs=[]
nimports=0; bodies=[]; names={}; 
while i<len(data):
    sid=data[i]; i+=1; sz,i=leb(data,i); start=i; end=i+sz
    if sid==2:
        n,j=leb(data,i)
        for _ in range(n):
            l,j=leb(data,j); j+=l; l,j=leb(data,j); j+=l; k=data[j]; j+=1
            if k==0: _,j=leb(data,j); nimports+=1      # function: type index
            elif k in (1,2):                           # table (reftype, limits) / memory (limits)
                if k==1: j+=1
                f=data[j]; j+=1; _,j=leb(data,j)
                if f&1: _,j=leb(data,j)
            elif k==3: j+=2                            # global: valtype, mutability
            elif k==4: j+=1; _,j=leb(data,j)           # tag: attribute, type index
    elif sid==10:
        n,j=leb(data,i)
        for _ in range(n):
            l,j=leb(data,j); bodies.append(l); j+=l
    elif sid==0:
        l,j=leb(data,i); nm=data[j:j+l].decode(); j+=l
        if nm=='name':
            while j<end:
                sub=data[j]; j+=1; ssz,j=leb(data,j); se=j+ssz
                if sub==1:
                    n,k=leb(data,j)
                    for _ in range(n):
                        idx,k=leb(data,k); l,k=leb(data,k); names[idx]=data[k:k+l].decode('utf8','replace'); k+=l
                j=se
    secs.append((sid,sz)); i=end
print('sections',secs)
tot=sum(bodies); print('code bytes',tot,'funcs',len(bodies))
raw=[names.get(nimports+k,'?') for k in range(len(bodies))]
dem=subprocess.run(['c++filt'],input='\n'.join(raw),capture_output=True,text=True).stdout.split('\n')
def crate(n):
    n=re.sub(r'^<','',n)
    m=re.match(r'[<&\s]*(?:impl\s+)?([a-zA-Z_][a-zA-Z0-9_]*)',n)
    return m.group(1) if m else n[:20]
agg=collections.Counter(); top=[]
for s,n in zip(bodies,dem):
    agg[crate(n)]+=s; top.append((s,n))
for c,s in agg.most_common(40): print(f'{s:9d} {100*s/tot:5.1f}% {c}')
if len(sys.argv)>2:
    top.sort(reverse=True)
    for s,n in top[:int(sys.argv[2])]: print(s,n[:200])
if len(sys.argv)>3 and sys.argv[3]:
    for pat in sys.argv[3].split(','):
        s=sum(sz for sz,n in zip(bodies,dem) if pat in n)
        print(f'contains {pat}: {s}')
if len(sys.argv)>4 and sys.argv[4]:
    want=sys.argv[4]
    sel=sorted(((s,n) for s,n in zip(bodies,dem) if crate(n)==want), reverse=True)
    for s,n in sel[:int(sys.argv[2]) or 40]: print(s,n[:260])
