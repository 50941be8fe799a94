package gallery

import (
	"html/template"
	"strings"

	"github.com/pixform/pixform/providers"
)

// pageTemplate is the whole gallery page. It loads nothing from the
// network: CSS and script are inline, thumbnails are data: URIs (static) or
// served by the live Server. Every value from the configuration is escaped
// by html/template, and the script builds live cards with textContent.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"provider": func(c Card) string {
		if c.File == nil || c.File.Provider == "" {
			return "not rendered"
		}
		return c.File.Provider
	},
	"draftProvider": func() string { return providers.Draft },
	"addrSegments":  AddrSegments,
	"pathSegments":  PathSegments,
	"anchor":        Anchor,
	"isAddr":        func(s string) bool { return strings.HasPrefix(s, "image.") },
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · pixform gallery</title>
{{if .Secret}}<meta name="pixform-secret" content="{{.Secret}}">{{end}}
<style>
:root{--bg:#15171c;--panel:#1e2128;--line:#2c313b;--text:#e6e8ec;--dim:#9aa1ad;--ok:#3fb27f;--run:#4c8dff;--warn:#e0a43a;--bad:#e5534b;--idle:#7b8494}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem 1rem;padding:.9rem 1.5rem;background:rgba(21,23,28,.94);border-bottom:1px solid var(--line)}
h1{margin:0;font-size:1.15rem;font-weight:650}
h1 span{color:var(--dim);font-weight:400}
#summary{color:var(--dim)}
#live{margin-left:auto;color:var(--dim);font-size:.85rem}
#live.on::before{content:"";display:inline-block;width:.55rem;height:.55rem;margin-right:.4rem;border-radius:50%;background:var(--ok)}
#live.off::before{content:"";display:inline-block;width:.55rem;height:.55rem;margin-right:.4rem;border-radius:50%;background:var(--bad)}
.notes{margin:1rem 1.5rem 0;padding:.6rem .9rem;border-radius:6px;background:#3a2f17;color:#f3d9a4;white-space:pre-wrap}
.notes.bad{background:#3d1c1c;color:#f6c1bd;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
.notes:empty{display:none}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:1.1rem;padding:1.25rem 1.5rem 2rem}
.card{display:flex;flex-direction:column;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.thumb{display:flex;align-items:center;justify-content:center;width:100%;aspect-ratio:4/3;padding:0;border:0;border-bottom:1px solid var(--line);background:#0d0f12;cursor:zoom-in;overflow:hidden}
.thumb img{display:block;width:100%;height:100%;object-fit:contain}
.thumb .empty{display:flex;align-items:center;justify-content:center;height:62%;max-width:86%;border:2px dashed var(--line);border-radius:6px;color:var(--idle);font-size:.9rem;letter-spacing:.02em}
.thumb:has(.empty){cursor:default}
.card.s-queued .thumb img,.card.s-out-of-date .thumb img,.card.s-rendering .thumb img,.card.s-throttled .thumb img{opacity:.45;filter:grayscale(.6)}
.card.s-rendering .thumb{background:linear-gradient(90deg,#0d0f12 0%,#1b2535 50%,#0d0f12 100%);background-size:200% 100%;animation:sweep 1.4s linear infinite}
@keyframes sweep{from{background-position:100% 0}to{background-position:-100% 0}}
.body{display:flex;flex-direction:column;gap:.45rem;padding:.7rem .8rem .8rem}
.head{display:flex;align-items:center;justify-content:space-between;gap:.5rem}
.head .addr{min-width:0}
.addr{font:600 .85rem/1.3 ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:normal;word-break:keep-all;overflow:hidden;text-overflow:ellipsis}
.addr span{white-space:nowrap}
.badge{flex:none;padding:.08rem .5rem;border-radius:999px;font-size:.72rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#fff;background:var(--idle)}
.s-up-to-date .badge,.s-recorded .badge{background:var(--ok)}
.s-rendering .badge{background:var(--run)}
.s-throttled .badge,.s-out-of-date .badge{background:var(--warn);color:#231a06}
.s-failed .badge{background:var(--bad)}
.prompt{margin:0;display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden;overflow-wrap:anywhere}
.chain{margin:0;color:var(--dim);font-size:.85rem;overflow-wrap:anywhere}
.chain a{color:var(--run)}
.meta{display:flex;flex-wrap:wrap;gap:.3rem}
.meta span{padding:.05rem .45rem;border:1px solid var(--line);border-radius:4px;color:var(--dim);font-size:.78rem}
.meta .draft{color:var(--warn);border-color:#5a4520}
.path{color:var(--dim);font:.78rem ui-monospace,SFMono-Regular,Menlo,monospace;word-break:normal;overflow-wrap:anywhere}
.reason{margin:0;color:var(--dim);font-size:.8rem;overflow-wrap:anywhere}
.s-failed .reason{color:#f6a7a1}
.takes{display:grid;grid-template-columns:repeat(auto-fill,minmax(70px,1fr));gap:.35rem}
.take{display:flex;flex-direction:column;gap:.2rem;align-items:stretch;font-size:.72rem;color:var(--dim)}
.take img{width:100%;aspect-ratio:1/1;object-fit:cover;border:2px solid transparent;border-radius:4px;background:#0d0f12}
.take.at img,.take.at .missing{border-color:var(--ok)}
.take .missing{display:flex;align-items:center;justify-content:center;aspect-ratio:1/1;padding:.2rem;border:2px dashed var(--line);border-radius:4px;text-align:center;font-size:.65rem}
.take button,.approve{padding:.15rem .3rem;border:1px solid var(--line);border-radius:4px;background:#262a33;color:var(--text);font-size:.72rem;cursor:pointer}
.take button:disabled{opacity:.5;cursor:default}
.review{display:flex;align-items:center;gap:.5rem;font-size:.78rem;color:var(--dim)}
.review .ok{color:var(--ok)}
.actionerr{color:#f6a7a1;font-size:.78rem}
.none{grid-column:1/-1;color:var(--dim);text-align:center;padding:3rem}
#lightbox{position:fixed;inset:0;z-index:5;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:.6rem;margin:0;padding:2rem;background:rgba(5,6,8,.92);cursor:zoom-out}
#lightbox[hidden]{display:none}
#lightbox img{max-width:100%;max-height:calc(100% - 2.5rem);object-fit:contain;box-shadow:0 10px 40px #000}
#lightbox figcaption{color:var(--dim);font:.85rem ui-monospace,SFMono-Regular,Menlo,monospace}
</style>
</head>
<body>
<header>
<h1>{{.Title}} <span>· pixform gallery</span></h1>
<span id="summary">{{len .Views}} images</span>
<span id="live"{{if not .Live}} hidden{{end}}>connecting…</span>
<span id="subtitle" style="color:var(--dim);font-size:.85rem">{{.Subtitle}}</span>
</header>
{{range .Warnings}}<div class="notes">{{.}}</div>{{end}}
<div id="status" class="notes"></div>
<main id="grid">
{{range .Views}}<article id="{{anchor .Addr}}" class="card s-{{.State}}" data-addr="{{.Addr}}" data-sort="{{.Sort}}" data-state="{{.State}}">
<button class="thumb" type="button" data-full="{{.Full}}" data-thumb="{{.Thumb}}" title="Show {{.Addr}} at full size">{{if .Thumb}}<img src="{{.Thumb}}" alt="{{.Prompt}}">{{else}}<span class="empty" style="{{.Ratio}}">{{.Label}}</span>{{end}}</button>
<div class="body">
<div class="head"><code class="addr" title="{{.Addr}}">{{range $i, $s := addrSegments .Addr}}{{if $i}}<wbr>{{end}}<span>{{$s}}</span>{{end}}</code><span class="badge">{{.Label}}</span></div>
<p class="prompt" title="{{.Prompt}}">{{.Prompt}}</p>
{{if .Source}}<p class="chain">{{.Made}} of {{if isAddr .Source}}<a href="#{{anchor .Source}}">{{.Source}}</a>{{else}}<code>{{.Source}}</code>{{end}}</p>{{end}}
{{if .Dependents}}<p class="chain">made into {{range $i, $d := .Dependents}}{{if $i}}, {{end}}<a href="#{{anchor $d}}">{{$d}}</a>{{end}}</p>{{end}}
<div class="meta">{{if .Source}}{{if .Seed}}<span>seed {{.Seed}}</span>{{end}}{{else}}<span>{{.AspectRatio}}</span><span>seed {{if .Seed}}{{.Seed}}{{else}}random{{end}}</span><span>{{.Style}}</span>{{end}}<span{{if eq (provider .Card) draftProvider}} class="draft"{{end}}>{{provider .Card}}</span></div>
<div class="path">{{range $i, $s := pathSegments .Path}}{{if $i}}<wbr>{{end}}{{$s}}{{end}}</div>
{{if .Reason}}<p class="reason">{{.Reason}}</p>{{end}}
{{if .Takes}}<div class="takes">{{range .Takes}}<div class="take{{if .At}} at{{end}}">{{if .Thumb}}<img class="takethumb" src="{{.Thumb}}" alt="{{.Caption}}" title="{{.Caption}}">{{else}}<span class="takethumb missing">not in this checkout's cache</span>{{end}}<span>{{.Caption}}</span></div>{{end}}</div>{{end}}
{{if .Review}}<div class="review"><span{{if .Approved}} class="ok"{{end}}>{{.Review}}</span></div>{{end}}
</div>
</article>
{{else}}<p class="none">No images yet.</p>
{{end}}</main>
<figure id="lightbox" hidden><img alt=""><figcaption></figcaption></figure>
<script>
(function () {
  "use strict";
  var LIVE = {{.Live}};
  var grid = document.getElementById("grid");
  var lb = document.getElementById("lightbox");
  var lbImg = lb.querySelector("img");
  var lbCap = lb.querySelector("figcaption");
  var labels = {"up-to-date": "up to date", "out-of-date": "out of date", "not-rendered": "not rendered"};

  function show(btn) {
    var full = btn.getAttribute("data-full"), thumb = btn.getAttribute("data-thumb");
    if (!full && !thumb) { return; }
    lbImg.onerror = function () {
      lbImg.onerror = null;
      if (thumb) { lbImg.src = thumb; }
    };
    lbImg.src = full || thumb;
    lbCap.textContent = btn.parentNode.getAttribute("data-addr");
    lb.hidden = false;
  }
  function hide() { lb.hidden = true; lbImg.removeAttribute("src"); }
  grid.addEventListener("click", function (e) {
    var b = e.target.closest("button.thumb");
    if (b) { show(b); }
  });
  lb.addEventListener("click", hide);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { hide(); } });

  function summary() {
    var n = {}, total = 0;
    Array.prototype.forEach.call(grid.querySelectorAll(".card"), function (c) {
      var s = c.getAttribute("data-state");
      n[s] = (n[s] || 0) + 1;
      total++;
    });
    var parts = [total + (total === 1 ? " image" : " images")];
    ["up-to-date", "rendering", "throttled", "queued", "failed", "out-of-date", "not-rendered", "recorded"].forEach(function (s) {
      if (n[s]) { parts.push(n[s] + " " + (labels[s] || s)); }
    });
    document.getElementById("summary").textContent = parts.join(" · ");
  }
  summary();
  if (!LIVE) { return; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  // addrNode shows an address as the static page does: it wraps only
  // after "image." and before the key (see AddrSegments), and its full
  // text is the tooltip when it is cut.
  function addrNode(addr) {
    var code = el("code", "addr");
    code.title = addr;
    var rest = addr, segs = [];
    if (rest.indexOf("image.") === 0) { segs.push("image."); rest = rest.slice(6); }
    var i = rest.indexOf("[");
    if (i > 0) { segs.push(rest.slice(0, i)); rest = rest.slice(i); }
    if (rest) { segs.push(rest); }
    segs.forEach(function (s, j) {
      if (j > 0) { code.appendChild(document.createElement("wbr")); }
      code.appendChild(el("span", "", s));
    });
    return code;
  }
  function anchor(addr) {
    var b = new TextEncoder().encode(addr), h = "c-";
    for (var i = 0; i < b.length; i++) { h += (b[i] < 16 ? "0" : "") + b[i].toString(16); }
    return h;
  }
  function link(addr) {
    var a = el("a", "", addr);
    a.href = "#" + anchor(addr);
    return a;
  }
  function build(c, old) {
    var card = el("article", "card s-" + c.state);
    card.id = anchor(c.addr);
    card.setAttribute("data-addr", c.addr);
    card.setAttribute("data-sort", c.sort);
    card.setAttribute("data-state", c.state);
    var btn = el("button", "thumb");
    btn.type = "button";
    btn.setAttribute("data-full", c.full || "");
    btn.setAttribute("data-thumb", c.thumb || "");
    btn.title = "Show " + c.addr + " at full size";
    if (c.thumb) {
      var img = old && old.querySelector("img");
      if (!img || img.getAttribute("src") !== c.thumb) {
        img = el("img");
        img.src = c.thumb;
      }
      img.alt = c.prompt;
      btn.appendChild(img);
    } else {
      var empty = el("span", "empty", c.label);
      var r = /^(\d+):(\d+)$/.exec(c.aspect_ratio || "");
      empty.style.aspectRatio = r ? r[1] + " / " + r[2] : "1 / 1";
      btn.appendChild(empty);
    }
    card.appendChild(btn);
    var body = el("div", "body");
    var head = el("div", "head");
    head.appendChild(addrNode(c.addr));
    head.appendChild(el("span", "badge", c.label));
    body.appendChild(head);
    var p = el("p", "prompt", c.prompt);
    p.title = c.prompt;
    body.appendChild(p);
    if (c.source) {
      var from = el("p", "chain", (c.made || "made") + " of ");
      from.appendChild(/^image\./.test(c.source) ? link(c.source) : el("code", "", c.source));
      body.appendChild(from);
    }
    if (c.dependents && c.dependents.length) {
      var deps = el("p", "chain", "made into ");
      c.dependents.forEach(function (d, j) {
        if (j > 0) { deps.appendChild(document.createTextNode(", ")); }
        deps.appendChild(link(d));
      });
      body.appendChild(deps);
    }
    var meta = el("div", "meta");
    var prov = c.file && c.file.provider ? c.file.provider : "not rendered";
    if (!c.source) {
      meta.appendChild(el("span", "", c.aspect_ratio));
      meta.appendChild(el("span", "", "seed " + (c.seed ? c.seed : "random")));
      meta.appendChild(el("span", "", c.style));
    } else if (c.seed) {
      meta.appendChild(el("span", "", "seed " + c.seed));
    }
    meta.appendChild(el("span", prov === {{draftProvider}} ? "draft" : "", prov));
    body.appendChild(meta);
    var path = el("div", "path");
    var parts = (c.path || "").split("/");
    parts.forEach(function (s, j) {
      if (j > 0) { path.appendChild(document.createElement("wbr")); }
      path.appendChild(document.createTextNode(j < parts.length - 1 ? s + "/" : s));
    });
    body.appendChild(path);
    if (c.reason) { body.appendChild(el("p", "reason", c.reason)); }
    if (secret && c.file) { review(c, body); }
    card.appendChild(body);
    return card;
  }
  var secretMeta = document.querySelector('meta[name="pixform-secret"]');
  var secret = secretMeta ? secretMeta.getAttribute("content") : "";
  // act asks the server to carry out an action. The body names the bytes
  // the page shows (sha256): if the image was rendered again since, the
  // server refuses, and the message says to look again.
  function act(kind, body, where, tries) {
    tries = tries || 0;
    fetch("actions/" + kind, {method: "POST", headers: {"Content-Type": "application/json", "X-Pixform-Secret": secret}, body: JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 503 && tries < 20) { setTimeout(function () { act(kind, body, where, tries + 1); }, 500); return; }
        return r.json().then(function (j) { if (!r.ok) { throw new Error(j.error || r.statusText); } });
      })
      .catch(function (err) { where.appendChild(el("p", "actionerr", String(err.message || err))); });
  }
  function review(c, body) {
    var f = c.file;
    var takes = f.takes || [];
    var at = takes.length ? (f.picked || 1) : 0;
    if (takes.length) {
      var strip = el("div", "takes");
      takes.forEach(function (t, i) {
        var n = i + 1;
        var box = el("div", "take" + (n === at ? " at" : ""));
        box.setAttribute("data-take", String(n));
        var img = el("img");
        img.src = "takes/" + t.sha256;
        img.alt = "take " + n + ", seed " + t.seed;
        img.title = img.alt;
        box.appendChild(img);
        var b = el("button", "pick", n === at && f.picked ? "picked" : "pick " + n);
        b.type = "button";
        b.disabled = n === at && !!f.picked;
        b.addEventListener("click", function () { b.disabled = true; act("pick", {addr: c.addr, take: n, sha256: t.sha256}, body); });
        box.appendChild(b);
        strip.appendChild(box);
      });
      body.appendChild(strip);
    }
    var row = el("div", "review");
    if (f.approved) {
      row.appendChild(el("span", "ok", "approved by " + f.approved.by));
    } else if (takes.length && !f.picked) {
      row.appendChild(el("span", "", "pick a take, then approve"));
    } else {
      var ab = el("button", "approve", "approve");
      ab.type = "button";
      ab.addEventListener("click", function () { ab.disabled = true; act("approve", {addr: c.addr, sha256: f.sha256}, body); });
      row.appendChild(ab);
    }
    body.appendChild(row);
  }
  function find(addr) {
    var cards = grid.querySelectorAll(".card");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].getAttribute("data-addr") === addr) { return cards[i]; }
    }
    return null;
  }
  function upsert(c) {
    var none = grid.querySelector(".none");
    if (none) { none.remove(); }
    var old = find(c.addr);
    var card = build(c, old);
    if (old) { old.replaceWith(card); summary(); return; }
    var cards = grid.querySelectorAll(".card");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].getAttribute("data-sort") > c.sort) { grid.insertBefore(card, cards[i]); summary(); return; }
    }
    grid.appendChild(card);
    summary();
  }
  var live = document.getElementById("live");
  var status = document.getElementById("status");
  var es = new EventSource("events");
  es.onopen = function () { live.textContent = "live"; live.className = "on"; };
  es.onerror = function () { live.textContent = "reconnecting…"; live.className = "off"; };
  es.addEventListener("card", function (e) { upsert(JSON.parse(e.data)); });
  es.addEventListener("remove", function (e) {
    var old = find(JSON.parse(e.data).addr);
    if (old) { old.remove(); summary(); }
  });
  es.addEventListener("status", function (e) {
    var s = JSON.parse(e.data);
    status.textContent = s.text || "";
    status.className = "notes" + (s.bad ? " bad" : "");
  });
})();
</script>
</body>
</html>
`
