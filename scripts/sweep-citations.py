# Mechanical rewrite of citations of files outside the repository (design notes) and of issue
# numbers in src/ and test/ comments and strings: each becomes docs/references.md#anchor or
# docs/architecture.md#anchor. Rerunnable after merging other branches.
import re, sys, pathlib
ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '.')
R = 'docs/references.md'
A = 'docs/architecture.md'
PAPER = {'1': 'compute-formula', '1.1': 'compute-formula', '1.2': 'batch-correction', '2': 'isoflop-design', '2.1': 'isoflop-design',
         '2.2': 'isoflop-design', '2.3': 'power-laws', '2.4': 'power-laws', '3': 'surge', '3.1': 'surge', '3.2': 'expert-lr',
         '3.1–3.2': 'expert-lr', '4': 'lr-schedule', '4.1': 'lr-schedule', '4.2': 'lr-schedule', '5': 'moe-structure', '5.1': 'moe-structure',
         '5.2': 'capacity', '5.3': 'recycle-routing', '5.4': 'aux-loss', '5.5': 'init', '6': 'attention', '6.1': 'attention',
         '6.2': 'attention', '7': 'configuration', '8': 'configuration', '9': 'reproduction-needs'}
METHODS = {'1': 'chinchilla-approach-3', '1.1': 'chinchilla-approach-3', '1.2': 'chinchilla-approach-1', '1.3': 'chinchilla-approach-2',
           '1.4': 'chinchilla-approach-3', '1.5': 'chinchilla-approach-2', '1.6': 'chinchilla-approach-3', '2': 'chinchilla-approach-3',
           '3': 'deepseek', '3.1': 'deepseek', '3.2': 'deepseek', '3.3': 'deepseek', '4': 'surge-estimation', '4.1': 'surge-estimation',
           '4.2': 'surge-estimation', '4.1–4.2': 'surge-estimation', '5': 'wsd', '5.1': 'wsd', '5.2': 'wsd', '5.3': 'wsd', '5.4': 'tissue',
           '5.5': 'multi-power', '5.4–5.5': 'tissue', '6': 'moe-activated'}
STYLE = {'5.1': 'public-api', '5.2': 'planning', '5.3': 'results-layout', '5.4': 'naming', '5.6': 'habits', '5.5': 'habits'}
STACK = {'Training engine': 'engine-rules', 'Data frames': 'data-frames', 'Plots': 'plots', 'Distributed sweeps': 'distributed-sweeps',
         'Text data and tokenizers': 'text-data'}
SEC = r'§\s?([0-9]+(?:\.[0-9]+)?(?:[–-][0-9]+(?:\.[0-9]+)?)?)'

def rewrite(text: str, path: str) -> str:
    def paper(m):
        a = PAPER.get(m.group(1).replace('-', '–'))
        return f'{R}#{a}' if a else R
    def methods(m):
        a = METHODS.get(m.group(1).replace('-', '–'))
        return f'{R}#{a}' if a else R
    def style(m):
        a = STYLE.get(m.group(1))
        return f'{A}#{a}' if a else A
    # "PAPER.md §1.1, §9" and "METHODS.md §5.4, §5.5": every section after the first, too.
    def chain(table_fn, name):
        def rep(m):
            secs = re.findall(SEC, m.group(0))
            anchors = list(dict.fromkeys(table_fn(s) for s in secs))
            return ', '.join(anchors)
        return rep
    text = re.sub(r'PAPER\.md ' + SEC + r'(?:, ' + SEC + r')+', chain(lambda s: (f'{R}#{PAPER[s]}' if s in PAPER else R), 'PAPER'), text)
    text = re.sub(r'METHODS\.md ' + SEC + r'(?:, ' + SEC + r')+', chain(lambda s: (f'{R}#{METHODS[s]}' if s in METHODS else R), 'METHODS'), text)
    text = re.sub(r'PAPER\.md ' + SEC, paper, text)
    text = re.sub(r'METHODS\.md ' + SEC, methods, text)
    text = re.sub(r'STYLE\.md ' + SEC + r'(?: habits? [0-9]+(?:[,–-] ?[0-9]+)*)?', style, text)
    text = re.sub(r'STACK\.md "([^"]+)"', lambda m: f'{R}#{STACK.get(m.group(1), "engine-rules")}', text)
    default_stack = 'plots' if path.endswith('report/export.ts') else 'engine-rules'
    text = re.sub(r"STACK\.md's table", f'the reference step of {R}#{default_stack}', text)
    text = re.sub(r'STACK\.md', f'{R}#{default_stack}', text)
    text = re.sub(r'\b(PAPER|METHODS)\.md\b', R, text)
    text = re.sub(r'\bSTYLE\.md\b', A, text)
    # Issue numbers: dropped (the commit history keeps them).
    text = re.sub(r' \(issue #[0-9]+(?:: ([^)]*))?\)', lambda m: f' ({m.group(1)})' if m.group(1) else '', text)
    text = re.sub(r'\(issue #[0-9]+; ', '(', text)
    text = re.sub(r' \(issues? #[0-9]+(?:, #[0-9]+)*\)', '', text)
    return text

changed = []
for sub in ('src', 'test'):
    for p in sorted((ROOT / sub).rglob('*.ts')):
        if p.name == 'citations.test.ts':  # the test's own examples of what it forbids
            continue
        t = p.read_text()
        n = rewrite(t, str(p))
        if n != t:
            p.write_text(n)
            changed.append(str(p.relative_to(ROOT)))
print(f'{len(changed)} files rewritten')
