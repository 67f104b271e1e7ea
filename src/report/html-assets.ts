/**
 * The report page's style and its one small script, inlined into the page
 * (no network at view time: system fonts, no CDN). Without the script
 * every scenario and run is simply shown one after the other.
 *
 * The script: the contents and the header's picker show one scenario at a time; a matrix
 * cell selects its run — its picture, its TLP paths on it, its hop list;
 * evidence links (#RUN-hID) select the run that holds the hop and flash
 * it; the IOMMU-group switch picks classic, per-bus or each run's own.
 */
export const PAGE_STYLE = `
:root{--ink:#17202c;--muted:#566170;--line:#d5dbe3;--bg:#fff;--panel:#f6f8fb;--breached:#b42318;--breached-bg:#fde8e7;--isolated:#1e6b2a;--isolated-bg:#e7f4e8;--accent:#1e63d6}
*{box-sizing:border-box}
html{font-family:system-ui,"Segoe UI","Liberation Sans","DejaVu Sans",Arial,sans-serif;font-size:16px;color:var(--ink);background:var(--bg)}
body{margin:0}
a{color:var(--accent)}
header.top{position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;align-items:center;padding:.4rem 1rem;background:#1f2a3a;color:#fff}
header.top h1{font-size:1.15rem;margin:0}
header.top h1 a{color:#fff;text-decoration:none}
header.top .counts{font-size:.9rem;color:#d5dde8}
header.top nav.switch{display:flex;gap:.3rem;align-items:center}
header.top nav.switch a{color:#fff;text-decoration:none;padding:.1rem .45rem;border:1px solid #6b7a90;border-radius:.3rem}
header.top select{font-size:1rem;padding:.15rem .3rem;max-width:22rem}
header.top fieldset{border:0;margin:0 0 0 auto;padding:0;font-size:.9rem;display:flex;gap:.6rem;align-items:center}
header.top legend{float:left;margin-right:.3rem}
.dot{display:inline-block;width:.62rem;height:.62rem;border-radius:50%;flex:none}
.dot.b{background:var(--breached)}.dot.i{background:var(--isolated)}
.bad{color:var(--breached);font-weight:700}
table.toc{border-collapse:collapse;font-size:1rem;margin-top:.6rem}
table.toc td,table.toc th{border-bottom:1px solid var(--line);padding:.32rem .6rem;text-align:left}
table.toc th{background:var(--panel)}
table.toc td.num{white-space:nowrap;text-align:right}
table.toc a{font-weight:700}
main{padding:.6rem 1rem 2rem;min-width:0}
section.scenario,tr[id]{scroll-margin-top:3.2rem}
section.scenario{border-bottom:2px solid var(--line);padding-bottom:1rem;margin-bottom:1rem}
.js section.scenario{display:none;border:0}
.js section.scenario.current{display:block}
section.scenario>h2{font-size:1.35rem;margin:.2rem 0 .1rem}
.file{color:var(--muted);font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.82rem;margin:0 0 .4rem}
.summary{margin:.3rem 0;max-height:6.3em;overflow:auto;line-height:1.4;font-size:.98rem;padding-right:.4rem}
details.about{margin:.2rem 0 .6rem;font-size:.92rem}
details.about summary{cursor:pointer;color:var(--accent)}
details.about li{margin:.15rem 0}
.bench{display:grid;grid-template-columns:minmax(min-content,1fr) minmax(0,var(--picture,1.35fr));gap:1rem;align-items:start}
.left{min-width:0}
.right{position:sticky;top:3rem;min-width:0}
.picture{border:1px solid var(--line);border-radius:.5rem;background:#fff;padding:.3rem}
.picture svg.topology{display:block;width:100%;height:auto;max-height:calc(100vh - 10.5rem)}
.js .picture svg.topology{display:none}
.js .picture svg.topology.current{display:block}
.legend{margin-top:.3rem}
.legend svg{display:block;width:100%;height:auto}
html[data-groups="classic"] svg.topology .g-classic{display:inline!important}
html[data-groups="classic"] svg.topology .g-per-bus{display:none!important}
html[data-groups="per-bus"] svg.topology .g-per-bus{display:inline!important}
html[data-groups="per-bus"] svg.topology .g-classic{display:none!important}
table.matrix{border-collapse:collapse;font-size:.86rem;margin:.2rem 0 .6rem}
table.matrix th,table.matrix td{border:1px solid var(--line);padding:.22rem .45rem;text-align:left;vertical-align:middle}
table.matrix thead th{background:var(--panel);font-weight:600}
table.matrix th.axis{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.8rem;font-weight:600;color:var(--muted)}
table.matrix td.cell{padding:0;min-width:5rem}
td.cell a{display:block;padding:.25rem .4rem;text-decoration:none;font-weight:700;border:3px solid transparent}
td.cell.breached a{background:var(--breached-bg);color:var(--breached)}
td.cell.isolated a{background:var(--isolated-bg);color:var(--isolated)}
td.cell.miss a{outline:3px dashed #5b21b6;outline-offset:-4px}
td.cell small{display:block;font-weight:400;font-size:.74rem;color:var(--muted)}
td.cell.selected a{border-color:var(--ink)}
td.empty{color:var(--muted)}
.run{border-top:1px solid var(--line);padding-top:.4rem;margin-top:.4rem}
.js .run{display:none}
.js .run.current{display:block}
.run h3{font-size:1.08rem;margin:.2rem 0}
.verdict{display:inline-block;padding:.05rem .5rem;border-radius:.3rem;font-weight:700}
.verdict.breached{background:var(--breached-bg);color:var(--breached)}
.verdict.isolated{background:var(--isolated-bg);color:var(--isolated)}
.chips{display:flex;flex-wrap:wrap;gap:.3rem;margin:.2rem 0}
.chip{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.8rem;background:var(--panel);border:1px solid var(--line);border-radius:.3rem;padding:.05rem .35rem}
.because{font-style:italic;margin:.25rem 0}
ul.gates,ul.breaches{margin:.2rem 0 .4rem;padding-left:1.2rem}
ul.breaches>li{margin:.3rem 0}
.evidence a{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.8rem;margin-right:.25rem}
.step{margin:.5rem 0 .2rem;font-weight:700}
table.hops{border-collapse:collapse;width:100%;font-size:.86rem;margin:.15rem 0 .5rem}
table.hops td,table.hops th{border-bottom:1px solid #e8ecf1;padding:.18rem .35rem;vertical-align:top;text-align:left}
table.hops tr.tlp-head th{background:var(--panel);font-weight:700}
table.hops .h1 .id,table.hops .h1 .t{color:var(--muted);font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.78rem}
table.hops .h1 .dec{background:#eef2f7;border-radius:.25rem;padding:0 .3rem}
table.hops .rule{color:#3b4656;font-size:.8rem;margin-left:1.2rem}
table.hops tr.ending.stopped td{background:#eef2f6}
table.hops tr.ending.landed td{background:var(--isolated-bg)}
table.hops tr.ending.breach td{background:var(--breached-bg);color:var(--breached)}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:.2rem;vertical-align:-.1rem;margin-right:.3rem}
tr:target,tr.flash{outline:3px solid #f59e0b;background:#fff7e0!important}
svg.topology.dim-others g.tlp-line:not(.hot),svg.topology.dim-others g.tlp-marks:not(.hot){opacity:.15}
.error pre{background:var(--breached-bg);padding:.6rem;white-space:pre-wrap}
@media (max-width:70rem){.bench{grid-template-columns:1fr}.right{position:static}}
@media print{header.top{display:none}.js section.scenario,.js .run{display:block}}
`;

export const PAGE_SCRIPT = `
(function () {
  var root = document.documentElement;
  root.classList.add('js');
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.scenario'));
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function showSection(section) {
    each(sections, function (s) { s.classList.toggle('current', s === section); });
    var at = sections.indexOf(section);
    var select = document.querySelector('nav.switch select');
    if (select) select.value = section.id;
    var prev = document.querySelector('nav.switch .prev');
    var next = document.querySelector('nav.switch .next');
    if (prev) prev.setAttribute('href', '#' + sections[Math.max(0, at - 1)].id);
    if (next) next.setAttribute('href', '#' + sections[Math.min(sections.length - 1, at + 1)].id);
  }
  function selectRun(run) {
    var section = run.closest('section.scenario');
    showSection(section);
    each(section.querySelectorAll('.run'), function (r) { r.classList.toggle('current', r === run); });
    each(section.querySelectorAll('td.cell'), function (c) { c.classList.toggle('selected', c.getAttribute('data-run') === run.id); });
    var picture = run.getAttribute('data-picture');
    each(section.querySelectorAll('svg.topology'), function (svg) { svg.classList.toggle('current', svg.id === picture); });
    each(section.querySelectorAll('g.run-path'), function (g) { g.setAttribute('display', g.getAttribute('data-run') === run.id ? 'inline' : 'none'); });
  }
  function defaultRun(section) {
    return section.querySelector('.run[data-default]') || section.querySelector('.run');
  }
  function go(id, scroll) {
    var target = id && document.getElementById(id);
    if (!target) target = sections[0];
    if (!target) return;
    if (target.matches('section.scenario')) {
      var run = defaultRun(target);
      if (run) selectRun(run); else showSection(target);
      window.scrollTo(0, 0);
      return;
    }
    var holder = target.closest('.run');
    if (holder) selectRun(holder); else { var s = target.closest('section.scenario'); if (s) showSection(s); }
    if (scroll && target !== holder) {
      target.scrollIntoView({ block: 'center' });
      target.classList.add('flash');
      setTimeout(function () { target.classList.remove('flash'); }, 2500);
    }
  }
  document.addEventListener('click', function (event) {
    var cell = event.target.closest('td.cell a');
    if (cell) {
      event.preventDefault();
      var id = cell.getAttribute('href').slice(1);
      history.replaceState(null, '', '#' + id);
      go(id, false);
    }
  });
  var picker = document.querySelector('nav.switch select');
  if (picker) picker.addEventListener('change', function () { location.hash = picker.value; });
  window.addEventListener('hashchange', function () { go(decodeURIComponent(location.hash.slice(1)), true); });
  each(document.querySelectorAll('input[name="groups"]'), function (input) {
    input.addEventListener('change', function () { root.setAttribute('data-groups', input.value); });
  });
  function hot(tlp, svg, on) {
    if (!svg) return;
    svg.classList.toggle('dim-others', on);
    each(svg.querySelectorAll('[data-tlp]'), function (g) { g.classList.toggle('hot', on && g.getAttribute('data-tlp') === tlp); });
  }
  each(document.querySelectorAll('tbody[data-tlp]'), function (body) {
    var run = body.closest('.run');
    function svg() { return document.getElementById(run.getAttribute('data-picture')); }
    body.addEventListener('mouseenter', function () { hot(body.getAttribute('data-tlp'), svg(), true); });
    body.addEventListener('mouseleave', function () { hot(body.getAttribute('data-tlp'), svg(), false); });
  });
  go(decodeURIComponent(location.hash.slice(1)), true);
})();
`;
