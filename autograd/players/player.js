// The HTML player: replays the steps recorded by autograd.backprop_steps (embedded as JSON) and
// draws the graph itself, at the level of detail the learner picks: the network by layer, a
// layer by neuron, a neuron by op, an RNN by time step. Clicking a group opens or closes it;
// the steps follow what is shown (a closed group's steps are one step, its numbers gathered
// in small tables from the recorded state: the page computes no number of its own). Text goes
// into the page with textContent only: data is never markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("player-data").textContent);
  var nodes = data.nodes, groups = data.groups, fine = data.steps;
  var FS = 12;                        // the drawing's font size (CSS px at zoom 1)
  var MIN_SCALE = 9 / FS;             // the default view never shows text under 9 CSS px
  var MAX_SCALE = 1.25, PAD = 6, ROW = 18, BASE = 13, GAP_X = 36, GAP_Y = 8, FRAME = 8;
  var TITLE = 20;
  var ROW_GAP = 36, fitBox = null;  // fitBox: the drawing's box, while choosing a layout
  var MAX_NAME = 190, WRAP = 24, CELL = 10, CELLS_PER_ROW = 16, MAX_CELLS = 64;
  var GRAPH_MAX = 560, GRAPH_MIN = 180;

  var $ = glassgradDom.byId, el = glassgradDom.el, svg = glassgradDom.svg;
  function stext(parent, x, y, text, className) {
    var t = svg("text", { x: x, y: y, "class": className }, parent);
    t.textContent = text;
    return t;
  }

  // ---- numbers and text widths ----------------------------------------------------------
  function shown(x) { return x === null ? "—" : x[0]; }
  function num(x) {  // the exact number of a [shown, repr] pair (Python writes inf, nan)
    var r = x[1];
    return r === "inf" ? Infinity : r === "-inf" ? -Infinity : r === "nan" ? NaN : Number(r);
  }
  function short(x) {  // 4 significant digits, as autograd.draw's boxes (Python's %.4g)
    if (x === null) return "?";
    var v = num(x);
    if (v === 0) return "0";
    if (!isFinite(v)) return isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    var rounded = Number(v.toPrecision(4));
    var e = Math.floor(Math.log10(Math.abs(rounded)));
    if (e < -4 || e >= 4) {
      var parts = rounded.toExponential(3).split("e");
      var mantissa = parts[0].replace(/\.?0+$/, "");
      var exp = Number(parts[1]);
      return mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") +
        Math.abs(exp);
    }
    return rounded.toFixed(Math.max(0, 3 - e)).replace(/\.?0+$/, "") || "0";
  }
  var ruler = document.createElement("canvas").getContext("2d");
  var family = getComputedStyle(document.body).fontFamily;
  function width(text, size, weight) {
    ruler.font = (weight || "normal") + " " + size + "px " + family;
    return Math.ceil(ruler.measureText(text).width);
  }
  function fitText(text, size, max, weight) {  // shortened with "…" to fit `max` px
    if (width(text, size, weight) <= max) return text;
    var lo = 0, hi = text.length;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (width("…" + text.slice(text.length - mid), size, weight) <= max) lo = mid;
      else hi = mid - 1;
    }
    return "…" + text.slice(text.length - lo);
  }

  // ---- the tree of groups -----------------------------------------------------------------
  // chain[i]: node i's groups, outermost first. inside[g]: every node in g (children too).
  var chain = nodes.map(function (n) {
    var c = [];
    for (var g = n.group; g !== null; g = groups[g].parent) c.unshift(g);
    return c;
  });
  var inside = groups.map(function () { return []; });
  chain.forEach(function (c, i) { c.forEach(function (g) { inside[g].push(i); }); });
  var root = nodes.length - 1;
  var outputs = groups.map(function () { return {}; });  // values used outside the group
  nodes.forEach(function (n, i) {
    n.parents.forEach(function (p) {
      chain[p].forEach(function (g) { if (chain[i].indexOf(g) < 0) outputs[g][p] = true; });
    });
  });
  chain[root].forEach(function (g) { outputs[g][root] = true; });
  outputs = outputs.map(function (o) { return Object.keys(o).map(Number).sort(function (a, b) { return a - b; }); });

  var open = groups.map(function () { return true; });
  var kindsPresent = [];
  ["neuron", "step", "layer"].concat(groups.map(function (g) { return g.kind; }))
    .forEach(function (kind) {
      if (kind !== "tensor" && kind !== "loss" && kindsPresent.indexOf(kind) < 0 &&
          groups.some(function (g) { return g.kind === kind; })) kindsPresent.push(kind);
    });

  // The open/closed state of every group at a level: "op" opens all but shared tensors; "by
  // kind" closes the groups of that kind and opens exactly their ancestors.
  function levelState(level) {
    return groups.map(function (g, i) {
      if (level === "op") return g.kind !== "tensor" || !g.shared;
      if (g.kind === level || g.kind === "tensor") return false;
      return groups.some(function (h, j) { return h.kind === level && ancestorOf(i, j); });
    });
  }
  function ancestorOf(a, b) {
    for (var g = groups[b].parent; g !== null; g = groups[g].parent) if (g === a) return true;
    return false;
  }

  // The item that shows node i: the outermost closed group around it, else the node.
  function itemOf(i) {
    var c = chain[i];
    for (var d = 0; d < c.length; d++) if (!open[c[d]]) return "g" + c[d];
    return "v" + i;
  }

  // ---- steps that follow the level shown ----------------------------------------------------
  // A closed group's steps are one step (its forward steps, its backward steps, or the updates
  // of its parameters after the backward pass). Where several closed groups' steps interleave
  // (a convolution, its ReLU and its pooling are computed window by window), they are one step
  // together: each step is the shortest stretch that holds every step of its groups, so that
  // nothing is shown before the steps that compute it.
  var GROUPED = { forward: true, backward: true, update: true };  // the kinds a group gathers
  var PHASES = { forward: "forward pass", backward: "backward pass", update: "update" };
  var visible = [];  // {first, last, items}: fine steps first..last; items: the closed groups
  function computeVisible() {
    visible = [];
    var k = 0;
    while (k < fine.length) {
      var s = fine[k];
      if (!GROUPED[s.kind] || s.node === null || itemOf(s.node)[0] !== "g") {
        visible.push({ first: k, last: k, items: null });
        k++;
        continue;
      }
      var end = k;
      while (end + 1 < fine.length && fine[end + 1].kind === s.kind &&
             itemOf(fine[end + 1].node)[0] === "g") end++;
      var lastOf = {};
      for (var t = k; t <= end; t++) lastOf[itemOf(fine[t].node)] = t;
      var start = k, reach = k, items = [];
      for (t = k; t <= end; t++) {
        var item = itemOf(fine[t].node);
        if (items.indexOf(item) < 0) items.push(item);
        reach = Math.max(reach, lastOf[item]);
        if (t === reach) {
          visible.push({ first: start, last: t, items: items });
          start = t + 1;
          items = [];
        }
      }
      k = end + 1;
    }
  }

  // Every node's [shown, exact] data and grad after fine step k (null: not computed yet),
  // replayed from checkpoints so that long walks stay quick.
  var EVERY = 32, checkpoints = [];
  (function () {
    var state = { data: data.initial.data.slice(), grad: data.initial.grad.slice() };
    fine.forEach(function (s, k) {
      s.changes.forEach(function (c) { state[c[1]][c[0]] = c[2]; });
      if (k % EVERY === 0) checkpoints.push({ data: state.data.slice(), grad: state.grad.slice() });
    });
  })();
  function stateAt(k) {
    var base = Math.floor(k / EVERY);
    var c = checkpoints[base];
    var state = { data: c.data.slice(), grad: c.grad.slice() };
    for (var s = base * EVERY + 1; s <= k; s++) {
      fine[s].changes.forEach(function (c) { state[c[1]][c[0]] = c[2]; });
    }
    return state;
  }

  // The widest grad text each node ever shows, so that its box never has to grow.
  var gradTexts = nodes.map(function (n, i) {
    var texts = [n.requiresGrad ? "not computed" : "no grad"];
    if (data.initial.grad[i] !== null) texts.push("grad " + short(data.initial.grad[i]));
    return texts;
  });
  fine.forEach(function (s) {
    s.changes.forEach(function (c) {
      if (c[1] === "grad") gradTexts[c[0]].push("grad " + short(c[2]));
    });
  });
  var gradWidth = gradTexts.map(function (texts) {
    return Math.max.apply(null, texts.map(function (t) { return width(t, FS, "normal"); }));
  });

  // ---- layout: each open group is a block laid out on its own, left to right ---------------
  // Items in a block are its nodes and child groups; ranks are longest paths along the edges
  // between them (leaves pulled right, next to what reads them); a rank is a column, wrapped
  // when it is very tall; a block's items are ordered by where they first appear.
  function nameOf(i, within) {
    var name = nodes[i].name;
    var prefix = within === null ? "" : groups[within].path + ".";
    return prefix && name.indexOf(prefix) === 0 && name.length > prefix.length
      ? name.slice(prefix.length) : name;
  }
  function nodeSize(i) {
    var n = nodes[i];
    if (n.kind === "constant") return { w: width(n.name, FS) + 2 * PAD, h: ROW };
    var label = nameOf(i, n.group);
    var name = Math.min(width(label, FS, "600"), MAX_NAME) +
      (n.op ? width(n.op + " ", FS) : 0);
    var cells = width(short(n.data), FS) + gradWidth[i] + 4 * PAD;
    return { w: Math.max(name + 2 * PAD, cells, 60), h: 2 * ROW };
  }
  // A closed group: its name; then its one output's data and grad, or a line of counts and a
  // strip of cells, one per output (a tensor: per element), coloured by grad.
  function cellsOf(g) { return groups[g].kind === "tensor" ? inside[g] : outputs[g]; }
  function single(g) { return groups[g].kind !== "tensor" && outputs[g].length === 1; }
  function groupSize(g) {
    var w = Math.max(width("⊞ " + groups[g].name, FS, "600") + 2 * PAD, 80);
    if (single(g)) {
      var o = outputs[g][0];
      return { w: Math.max(w, width(short(nodes[o].data), FS) + gradWidth[o] + 4 * PAD),
        h: 2 * ROW };
    }
    var n = Math.min(cellsOf(g).length, MAX_CELLS);
    return { w: Math.max(w, width(subtitle(g), FS) + 2 * PAD,
                         Math.min(n, CELLS_PER_ROW) * CELL + 2 * PAD),
      h: 2 * ROW + (n ? Math.ceil(n / CELLS_PER_ROW) * CELL + PAD / 2 : 0) };
  }
  function subtitle(g) {
    var G = groups[g];
    if (G.kind === "tensor") {
      return "parameters " + G.shape.join("×") + (G.shared ? " · shared" : "");
    }
    var counts = {};
    G.children.forEach(function (c) { counts[groups[c].kind] = (counts[groups[c].kind] || 0) + 1; });
    var parts = Object.keys(counts).filter(function (k) { return k !== "tensor"; })
      .map(function (k) { return counts[k] + " " + k + (counts[k] > 1 ? "s" : ""); });
    var values = inside[g].filter(function (i) { return nodes[i].kind === "op"; }).length;
    var inputs = inside[g].filter(function (i) { return nodes[i].kind === "input"; }).length;
    if (inputs) parts.push(inputs + " input" + (inputs === 1 ? "" : "s"));
    parts.push(values + " value" + (values === 1 ? "" : "s"));
    return parts.join(" · ");
  }

  var boxes = {};   // item id -> {x, y, w, h} in drawing coordinates (closed groups, nodes)
  var frames = {};  // open group id -> {x, y, w, h}
  function layoutBlock(g) {  // g: a group index, or null for the whole graph
    var depth = g === null ? 0 : chain[inside[g][0]].indexOf(g) + 1;
    var members = g === null ? nodes.map(function (n, i) { return i; }) : inside[g];
    var items = {}, order = [];
    function itemAt(i) {
      var c = chain[i];
      return c.length > depth ? "g" + c[depth] : "v" + i;
    }
    members.forEach(function (i) {
      var id = itemAt(i);
      if (!items[id]) { items[id] = { id: id, first: i, succ: {}, pred: {} }; order.push(id); }
    });
    var mine = {};
    members.forEach(function (i) { mine[i] = true; });
    members.forEach(function (i) {
      var to = itemAt(i);
      nodes[i].parents.forEach(function (p) {
        if (!mine[p]) return;
        var from = itemAt(p);
        if (from !== to) { items[from].succ[to] = true; items[to].pred[from] = true; }
      });
    });
    // ranks: longest path from the sources, cycles broken where a walk meets itself
    var rank = {}, visiting = {};
    function rankOf(id) {
      if (rank[id] !== undefined) return rank[id];
      if (visiting[id]) return -1;
      visiting[id] = true;
      var r = 0;
      Object.keys(items[id].pred).forEach(function (p) { r = Math.max(r, rankOf(p) + 1); });
      visiting[id] = false;
      rank[id] = r;
      return r;
    }
    order.forEach(rankOf);
    order.slice().reverse().forEach(function (id) {  // sources move right, next to readers
      var it = items[id];
      if (Object.keys(it.pred).length) return;
      var readers = Object.keys(it.succ);
      if (readers.length) {
        rank[id] = Math.max(rank[id], Math.min.apply(null, readers.map(function (r) { return rank[r]; })) - 1);
      }
    });
    // sizes, recursively for open groups
    var sizes = {};
    order.forEach(function (id) {
      if (id[0] === "v") { sizes[id] = nodeSize(Number(id.slice(1))); return; }
      var c = Number(id.slice(1));
      if (open[c]) {
        var inner = layoutBlock(c);
        sizes[id] = { w: Math.max(inner.w + 2 * FRAME, width("⊟ " + groups[c].name + " · " +
          groups[c].kind, FS, "600") + 2 * PAD), h: inner.h + 2 * FRAME + TITLE, inner: inner };
      } else sizes[id] = groupSize(c);
    });
    // columns
    var columns = [];
    order.forEach(function (id) {
      var r = Math.max(0, rank[id]);
      (columns[r] = columns[r] || []).push(id);
    });
    columns = columns.filter(Boolean);
    var placed = [], x = 0;
    columns.forEach(function (column) {
      column.sort(function (a, b) { return items[a].first - items[b].first; });
      for (var start = 0; start < column.length; start += WRAP) {
        var part = column.slice(start, start + WRAP), w = 0, h = 0;
        part.forEach(function (id) { w = Math.max(w, sizes[id].w); h += sizes[id].h + GAP_Y; });
        placed.push({ ids: part, x: x, w: w, h: h - GAP_Y });
        x += w + (start + WRAP < column.length ? GAP_Y * 2 : GAP_X);
      }
    });
    // The whole graph is wrapped into rows when it is wider than the box can show readably
    // and the rows fit better than one.
    if (g === null && fitBox) {
      var flat = rowsOf(placed, Infinity, sizes);
      var wrapped = rowsOf(placed, (fitBox.w - 2 * MARGIN) / MIN_SCALE, sizes);
      return fitScale(wrapped.w, wrapped.h, fitBox) > fitScale(flat.w, flat.h, fitBox) + 0.01
        ? wrapped : flat;
    }
    return rowsOf(placed, Infinity, sizes);
  }
  function rowsOf(placed, limit, sizes) {
    var rows = [[]], left = 0;
    placed.forEach(function (c) {
      var col = { ids: c.ids, x: c.x - left, w: c.w, h: c.h };
      if (rows[rows.length - 1].length && col.x + col.w > limit) {
        left = c.x;
        col.x = 0;
        rows.push([]);
      }
      rows[rows.length - 1].push(col);
    });
    var block = { w: 0, h: 0, place: [], rows: [] };
    rows.forEach(function (row, r) {
      var h = 0, w = 0;
      row.forEach(function (col) { h = Math.max(h, col.h); w = Math.max(w, col.x + col.w); });
      var top = block.h + (r ? ROW_GAP : 0);
      row.forEach(function (col) {
        var y = top + (h - col.h) / 2;
        col.ids.forEach(function (id) {
          block.place.push({ id: id, x: col.x + (col.w - sizes[id].w) / 2, y: y, size: sizes[id],
            row: r });
          y += sizes[id].h + GAP_Y;
        });
      });
      block.rows.push({ top: top, bottom: top + h });
      block.w = Math.max(block.w, w);
      block.h = top + h;
    });
    return block;
  }
  function position(block, ox, oy, row) {  // row: the outermost block's row, for edges
    block.place.forEach(function (p) {
      var x = ox + p.x, y = oy + p.y, r = row === undefined ? block.rows[p.row] : row;
      if (p.size.inner) {
        frames[p.id] = { x: x, y: y, w: p.size.w, h: p.size.h };
        position(p.size.inner, x + (p.size.w - p.size.inner.w) / 2, y + TITLE + FRAME, r);
      } else boxes[p.id] = { x: x, y: y, w: p.size.w, h: p.size.h, row: r };
    });
  }

  // ---- drawing ------------------------------------------------------------------------------
  var host = $("player-graph");
  var canvas = svg("svg", { id: "player-svg", role: "img", "aria-label": "the computation graph" }, host);
  var defs = svg("defs", {}, canvas);
  ["edge", "flow", "forward"].forEach(function (kind) {
    var m = svg("marker", { id: "arrow-" + kind, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse", "class": "arrow " + kind }, defs);
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }, m);
  });
  var view = svg("g", { id: "player-view" }, canvas);
  var frameLayer = svg("g", { "class": "frames" }, view);
  var edgeLayer = svg("g", { "class": "edges" }, view);
  var itemLayer = svg("g", { "class": "items" }, view);
  var drawn = {};   // item id -> {g, data, grad, gradCell, cells, tip}
  var edges = {};   // "from>to" -> path
  var extent = { w: 0, h: 0 };

  function build() {
    boxes = {}; frames = {}; drawn = {}; edges = {};
    var block = layoutBlock(null);
    extent = { w: block.w, h: block.h };
    position(block, 0, 0);
    frameLayer.replaceChildren(); edgeLayer.replaceChildren(); itemLayer.replaceChildren();
    Object.keys(frames).forEach(function (id) {
      var f = frames[id], g = Number(id.slice(1)), G = groups[g];
      var e = svg("g", { id: id, "class": "frame " + G.kind, "data-group": g }, frameLayer);
      svg("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 8, "class": "frame-box" }, e);
      var bar = svg("rect", { x: f.x, y: f.y, width: f.w, height: TITLE, rx: 8,
        "class": "frame-bar" }, e);
      stext(e, f.x + PAD, f.y + BASE + 1, "⊟ " + G.name + " · " + G.kind, "frame-title");
      svg("title", {}, bar).textContent = G.path + ": click to close";
    });
    Object.keys(boxes).forEach(function (id) {
      drawn[id] = id[0] === "v" ? drawNode(Number(id.slice(1)), boxes[id])
        : drawGroup(Number(id.slice(1)), boxes[id]);
    });
    nodes.forEach(function (n, i) {
      var to = itemOf(i);
      n.parents.forEach(function (p) {
        var from = itemOf(p), key = from + ">" + to;
        if (from === to || edges[key]) return;
        edges[key] = svg("path", { d: route(boxes[from], boxes[to]), id: "e-" + from + "-" + to,
          "class": "edge", "marker-end": "url(#arrow-edge)" }, edgeLayer);
      });
    });
  }

  // An edge from a's right side to b's left side; into a later row of the wrapped graph, it
  // runs along the gap under a's row.
  function route(a, b) {
    var x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
    if (a.row === b.row || x2 > x1) {
      var bend = Math.max(24, Math.abs(x2 - x1) / 2);
      return "M" + x1 + " " + y1 + " C" + (x1 + bend) + " " + y1 + " " + (x2 - bend) + " " + y2 +
        " " + x2 + " " + y2;
    }
    var gap = a.row.bottom + ROW_GAP / 2;
    return "M" + x1 + " " + y1 + " C" + (x1 + 20) + " " + y1 + " " + (x1 + 20) + " " + gap + " " +
      x1 + " " + gap + " L" + (x2 - 4) + " " + gap + " C" + (x2 - 24) + " " + gap + " " +
      (x2 - 24) + " " + y2 + " " + x2 + " " + y2;
  }

  function drawNode(i, b) {
    var n = nodes[i];
    var kind = i === root ? "output" : n.kind;
    var g = svg("g", { id: "v" + i, "class": "item value " + kind,
      transform: "translate(" + b.x + "," + b.y + ")" }, itemLayer);
    var tip = svg("title", {}, g);
    if (n.kind === "constant") {
      svg("rect", { width: b.w, height: b.h, rx: 4, "class": "box" }, g);
      stext(g, PAD, BASE, n.name, "number");
      return { g: g, tip: tip };
    }
    svg("rect", { width: b.w, height: b.h, rx: 5, "class": "box" }, g);
    svg("rect", { x: 1, y: 1, width: b.w - 2, height: ROW - 1, rx: 4, "class": "name-cell" }, g);
    var name = svg("text", { x: PAD, y: BASE, "class": "name" }, g);
    if (n.op) {
      var op = svg("tspan", { "class": "op" }, name);
      op.textContent = n.op + " ";
    }
    var label = svg("tspan", {}, name);
    label.textContent = fitText(nameOf(i, n.group), FS, MAX_NAME, "600");
    var half = b.w - gradWidth[i] - 2 * PAD;
    var cell = svg("rect", { x: half, y: ROW, width: b.w - half - 1, height: ROW - 1,
      "class": "grad-cell" }, g);
    return {
      g: g, tip: tip, gradCell: cell,
      data: stext(g, PAD, ROW + BASE, "", "data"),
      grad: stext(g, half + PAD, ROW + BASE, "", "grad")
    };
  }

  function drawGroup(c, b) {
    var G = groups[c];
    var g = svg("g", { id: "g" + c, "class": "item group closed " + G.kind, "data-group": c,
      transform: "translate(" + b.x + "," + b.y + ")" }, itemLayer);
    var tip = svg("title", {}, g);
    svg("rect", { width: b.w, height: b.h, rx: 6, "class": "box" }, g);
    stext(g, PAD, BASE, "⊞ " + G.name, "title");
    var result = { g: g, tip: tip, cells: [] };
    if (single(c)) {
      var o = outputs[c][0];
      var half = b.w - gradWidth[o] - 2 * PAD;
      result.gradCell = svg("rect", { x: half, y: ROW, width: b.w - half - 1,
        height: ROW - 1, "class": "grad-cell" }, g);
      result.data = stext(g, PAD, ROW + BASE, "", "data");
      result.grad = stext(g, half + PAD, ROW + BASE, "", "grad");
      result.node = o;
      return result;
    }
    stext(g, PAD, ROW + BASE, subtitle(c), "sub");
    cellsOf(c).slice(0, MAX_CELLS).forEach(function (i, k) {
      result.cells.push([i, svg("rect", { x: PAD + (k % CELLS_PER_ROW) * CELL,
        y: 2 * ROW + Math.floor(k / CELLS_PER_ROW) * CELL, width: CELL - 1, height: CELL - 1,
        "class": "cell" }, g)]);
    });
    return result;
  }

  // ---- the view: pan, zoom, fit, follow -------------------------------------------------------
  var zoom = { s: 1, x: 0, y: 0 };
  var MARGIN = 16;
  function applyView() {
    view.setAttribute("transform", "translate(" + zoom.x + "," + zoom.y + ") scale(" + zoom.s + ")");
  }
  function viewSize() { return { w: host.clientWidth, h: host.clientHeight }; }
  function fitScale(w, h, box) {
    return Math.min((box.w - 2 * MARGIN) / Math.max(w, 1), (box.h - 2 * MARGIN) / Math.max(h, 1),
      MAX_SCALE);
  }
  function sizeHost() {  // the drawing's box follows its content, up to GRAPH_MAX
    var w = host.clientWidth;
    var s = Math.max(MIN_SCALE, Math.min(MAX_SCALE, (w - 2 * MARGIN) / Math.max(extent.w, 1)));
    var h = Math.min(GRAPH_MAX, Math.max(GRAPH_MIN, extent.h * s + 2 * MARGIN));
    host.style.height = Math.round(h) + "px";
  }
  function fit() {
    var box = viewSize();
    zoom.s = fitScale(extent.w, extent.h, box);
    zoom.x = (box.w - extent.w * zoom.s) / 2;
    zoom.y = (box.h - extent.h * zoom.s) / 2;
    applyView();
  }
  function readable() {  // fit, but never below MIN_SCALE: then follow the current item
    var box = viewSize();
    var s = fitScale(extent.w, extent.h, box);
    if (s >= MIN_SCALE) { fit(); return; }
    zoom.s = MIN_SCALE;
    zoom.x = MARGIN;
    zoom.y = Math.min(MARGIN, (box.h - extent.h * zoom.s) / 2);
    applyView();
  }
  function zoomBy(factor, cx, cy) {
    var s = Math.max(0.05, Math.min(4, zoom.s * factor));
    zoom.x = cx - (cx - zoom.x) * s / zoom.s;
    zoom.y = cy - (cy - zoom.y) * s / zoom.s;
    zoom.s = s;
    applyView();
  }
  function follow(id) {  // keep an item well inside the view: centre it when it nears an edge
    var b = boxes[id];
    if (!b || !$("player-follow").checked) return;
    var box = viewSize();
    var x1 = b.x * zoom.s + zoom.x, y1 = b.y * zoom.s + zoom.y;
    var x2 = x1 + b.w * zoom.s, y2 = y1 + b.h * zoom.s;
    var whole = zoom.x >= 0 && zoom.y >= 0 && zoom.x + extent.w * zoom.s <= box.w &&
      zoom.y + extent.h * zoom.s <= box.h;
    var mx = whole ? 0 : Math.min(box.w * 0.1, Math.max(0, (box.w - (x2 - x1)) / 2));
    var my = whole ? 0 : Math.min(box.h * 0.1, Math.max(0, (box.h - (y2 - y1)) / 2));
    if (x1 >= mx && y1 >= my && x2 <= box.w - mx && y2 <= box.h - my) return;
    zoom.x = clamp(zoom.x + box.w / 2 - (x1 + x2) / 2, box.w - extent.w * zoom.s - MARGIN, MARGIN);
    zoom.y = clamp(zoom.y + box.h / 2 - (y1 + y2) / 2, box.h - extent.h * zoom.s - MARGIN, MARGIN);
    applyView();
  }
  // Centred, but not past the drawing's edges: no empty band where there is more to show.
  function clamp(v, lo, hi) { return lo > hi ? (lo + hi) / 2 : Math.max(lo, Math.min(hi, v)); }

  // ---- the node table -------------------------------------------------------------------------
  var rows = nodes.map(function (n) {
    var tr = el("tr");
    tr.id = "player-row-" + n.id;
    var name = el("td", n.name, "name");
    name.title = n.id + ": " + n.name;
    tr.appendChild(name);
    var how = el("td", n.expression || n.kind, "how");
    how.title = n.expression || n.kind;
    tr.appendChild(how);
    var d = el("td", "", "data"), g = el("td", "", "grad");
    tr.appendChild(d);
    tr.appendChild(g);
    $("player-rows").appendChild(tr);
    return { tr: tr, data: d, grad: g };
  });
  function setCell(cell, x, requiresGrad) {
    cell.textContent = requiresGrad === false ? "no grad" : shown(x);
    cell.dataset.exact = x === null ? "" : x[1];
    cell.title = x === null ? (requiresGrad === false ? "a constant" : "not computed yet") : x[1];
    cell.classList.toggle("pending", x === null);
  }

  // The grad cell's fill by the grad's sign, in the hues of autograd.draw's legend.
  function gradFill(x) {
    var f = data.gradFills;
    if (x === null) return f.notComputed;
    var v = num(x);
    return isNaN(v) ? f.nan : v > 0 ? f.positive : v < 0 ? f.negative : f.zero;
  }
  function paintValue(d, i, state) {
    var n = nodes[i];
    if (d.data) d.data.textContent = state.data[i] === null ? "?" : short(state.data[i]);
    if (d.grad) {
      var g = state.grad[i];
      d.grad.textContent = !n.requiresGrad ? "no grad" : g === null ? "not computed" : "grad " + short(g);
      d.grad.classList.toggle("pending", n.requiresGrad && g === null);
      d.gradCell.setAttribute("fill", n.requiresGrad ? gradFill(g) : "#ffffff");
    }
  }

  // ---- one step ---------------------------------------------------------------------------------
  var k = 0, timer = null, custom = false;
  function render() {
    var step = visible[k];
    var state = stateAt(step.last);
    var head = fine[step.first];
    var changed = {}, receiving = {}, s;
    for (s = step.first; s <= step.last; s++) {
      fine[s].changes.forEach(function (c) { changed[c[0]] = true; });
    }
    var current = {}, stepped = {};  // the items and the nodes this step is about
    for (s = step.first; s <= step.last; s++) {
      if (fine[s].node !== null) {
        current[itemOf(fine[s].node)] = true;
        if (step.items || s === step.first) stepped[fine[s].node] = true;
      }
    }
    if (head.kind === "start") current = {};
    if (step.items) {
      Object.keys(changed).forEach(function (i) {
        if (!current[itemOf(Number(i))]) receiving[itemOf(Number(i))] = true;
      });
    } else {
      head.terms.forEach(function (p) { receiving[itemOf(p)] = true; });
    }

    nodes.forEach(function (n, i) {
      var r = rows[i];
      setCell(r.data, state.data[i]);
      setCell(r.grad, state.grad[i], n.requiresGrad);
      r.tr.classList.toggle("current", !!stepped[i]);
      r.tr.classList.toggle("changed", !!changed[i] && !stepped[i]);
    });
    Object.keys(drawn).forEach(function (id) {
      var d = drawn[id];
      if (id[0] === "v") {
        var i = Number(id.slice(1));
        paintValue(d, i, state);
        d.tip.textContent = nodes[i].name + ": data " + shown(state.data[i]) + ", grad " +
          (nodes[i].requiresGrad ? shown(state.grad[i]) : "none (a constant)");
      } else {
        var c = Number(id.slice(1));
        if (d.node !== undefined) paintValue(d, d.node, state);
        var pending = 0;
        d.cells.forEach(function (pair) {
          var g = state.grad[pair[0]];
          if (g === null) pending++;
          pair[1].setAttribute("fill", gradFill(g));
        });
        d.tip.textContent = groups[c].path + " (" + subtitle(c) + "): click to open" +
          (d.cells.length ? "; grads computed: " + (d.cells.length - pending) + " / " + d.cells.length : "");
      }
      d.g.classList.toggle("current", !!current[id]);
      d.g.classList.toggle("receiving", !current[id] && !!receiving[id]);
    });
    Object.keys(edges).forEach(function (key) {
      edges[key].classList.remove("flow", "forward");
      edges[key].setAttribute("marker-end", "url(#arrow-edge)");
    });
    if (head.kind === "forward" || head.kind === "backward") {
      var cls = head.phase === "forward" ? "forward" : "flow";
      for (var t = step.first; t <= step.last; t++) {
        var to = itemOf(fine[t].node);
        nodes[fine[t].node].parents.forEach(function (p) {
          if (cls === "flow" && !nodes[p].requiresGrad) return;  // no gradient to a constant
          var e = edges[itemOf(p) + ">" + to];
          if (e && !e.classList.contains(cls)) {
            e.classList.add(cls);
            e.setAttribute("marker-end", "url(#arrow-" + cls + ")");
            edgeLayer.appendChild(e);  // on top of the others
          }
        });
      }
    }

    explain(step, head);
    $("player-counter").textContent = k + " / " + (visible.length - 1);
    $("player-slider").max = String(visible.length - 1);
    $("player-slider").value = String(k);
    $("player-prev").disabled = $("player-start").disabled = k === 0;
    $("player-next").disabled = $("player-end").disabled = k === visible.length - 1;
    var focus = Object.keys(current)[0];
    if (focus) follow(focus);
    var row = Object.keys(stepped)[0];
    if (row !== undefined) reveal(rows[row].tr, $("player-nodes"));
  }

  function explain(step, head) {
    var phase = head.phase;
    $("player-phase").textContent = PHASES[phase] || phase;
    $("player-phase").className = phase;
    var lines = $("player-lines");
    lines.replaceChildren();
    function line(text, cls) { lines.appendChild(el("div", text, cls || "line")); }
    if (!step.items) {
      $("player-step-title").textContent = head.title;
      head.lines.forEach(function (text, j) { line(text, j === 0 ? "line first" : "line"); });
      return;
    }
    var gs = step.items.map(function (id) { return Number(id.slice(1)); });
    var what = gs.map(function (g) { return groups[g].kind + " " + groups[g].path; });
    var count = step.last - step.first + 1;
    $("player-step-title").textContent = ({ forward: "forward: ", update: "update: " }[phase] ||
      "backward through ") +
      listed(what) + " (" + count + " step" + (count === 1 ? "" : "s") + ")";
    var small = gs.length === 1 && count <= 4 && !groups[gs[0]].children.some(function (c) {
      return groups[c].kind !== "tensor"; });
    if (small) {  // a neuron: its few steps, one after the other
      for (var s = step.first; s <= step.last; s++) {
        line(fine[s].title, "line sub");
        fine[s].lines.forEach(function (text) { line(text); });
      }
      return;
    }
    var state = stateAt(step.last), out = data.output;
    if (phase === "update") {
      line("each parameter moves by the optimizer's rule, from the gradient above", "line first");
      line("open " + listed(gs.map(function (g) { return groups[g].path; })) +
        " (click it) to see each parameter's update written out");
      gs.forEach(function (g) { lines.appendChild(updates(g, step, state)); });
      return;
    }
    if (gs.length > 1) line("their steps interleave (" + listed(step.items.map(function (id) {
      return groups[Number(id.slice(1))].path; })) + " are computed a piece at a time), so they are one step here", "line first");
    line(phase === "forward"
      ? "each value is computed from its parents, as in the steps inside"
      : "each node sends ∂" + out + "/∂(itself) · (its local derivative) back to its parents, children first");
    line("open " + listed(gs.map(function (g) { return groups[g].path; })) +
      " (click it) to see each step with the chain rule written out");
    var inStep = {};
    for (s = step.first; s <= step.last; s++) inStep[fine[s].node] = true;
    gs.forEach(function (g) {
      var mine = inside[g].filter(function (i) { return inStep[i]; });
      lines.appendChild(summary(g, mine, state, phase));
    });
    if (phase === "backward") {  // what goes to the nodes outside
      var before = stateAt(step.first - 1), sent = [];
      for (s = step.first; s <= step.last; s++) {
        fine[s].changes.forEach(function (c) {
          if (gs.indexOf(groupIn(c[0], gs)) < 0 && sent.indexOf(c[0]) < 0) sent.push(c[0]);
        });
      }
      if (sent.length) {
        lines.appendChild(table("what it sends back: ∂" + out + "/∂ of its inputs",
          ["input", "grad before", "grad after"], sent.sort(function (a, b) { return a - b; })
            .map(function (i) { return [nodes[i].name, shown(before.grad[i]), shown(state.grad[i])]; })));
      }
    }
  }
  // The parameters a step of updates moved inside group g: grad, number before and after.
  function updates(g, step, state) {
    var before = stateAt(step.first - 1), moved = [], prefix = groups[g].path + ".";
    for (var s = step.first; s <= step.last; s++) {
      fine[s].changes.forEach(function (c) {
        if (c[1] === "data" && chain[c[0]].indexOf(g) >= 0 && moved.indexOf(c[0]) < 0) moved.push(c[0]);
      });
    }
    return table(groups[g].path + ": each parameter, before and after",
      ["parameter", "gradient", "before", "after"], moved.map(function (i) {
        var name = nodes[i].name;
        return [name.indexOf(prefix) === 0 ? name.slice(prefix.length) : name,
          shown(state.grad[i]), shown(before.data[i]), shown(state.data[i])];
      }));
  }
  function groupIn(i, gs) {  // the group of `gs` that holds node i, if any
    for (var j = 0; j < gs.length; j++) if (chain[i].indexOf(gs[j]) >= 0) return gs[j];
    return -1;
  }
  function listed(names) {
    return names.length <= 1 ? names.join("") : names.slice(0, -1).join(", ") + " and " +
      names[names.length - 1];
  }

  // A group's numbers after a step: a row per child (neuron, time step) with a column per role
  // its nodes play ("z", "out": the name after the child's, indices dropped); or, when the roles
  // are many or there are no children, a row per node.
  var MAX_ROWS = 64;
  function summary(g, list, state, phase) {
    var field = phase === "forward" ? "data" : "grad";
    var byChild = [], roles = [], direct = false;
    list.forEach(function (i) {
      var c = chain[i], at = c.indexOf(g), child = at + 1 < c.length ? c[at + 1] : null;
      if (child === null || groups[child].kind === "tensor") { direct = true; return; }
      var row = byChild.filter(function (r) { return r.child === child; })[0];
      if (!row) { row = { child: child, roles: {} }; byChild.push(row); }
      var role = roleOf(nodes[i], groups[child].path);
      if (roles.indexOf(role) < 0) roles.push(role);
      (row.roles[role] = row.roles[role] || []).push(i);
    });
    var title = groups[g].path + ": " + (phase === "forward" ? "what it computes" :
      "∂" + data.output + "/∂ each of its values");
    if (!direct && byChild.length && roles.length <= 4) {
      var kind = groups[byChild[0].child].kind;
      return table(title, [kind].concat(roles.map(function (r) { return field + " " + r; })),
        byChild.map(function (row) {
          return [groups[row.child].name].concat(roles.map(function (r) {
            var values = (row.roles[r] || []).map(function (i) { return shown(state[field][i]); });
            return values.length > 4 ? values.slice(0, 4).join(", ") + ", … (" + values.length + ")"
              : values.join(", ");
          }));
        }));
    }
    var prefix = groups[g].path + ".";
    return table(title, ["value", field], list.map(function (i) {
      var name = nodes[i].name;
      return [name.indexOf(prefix) === 0 ? name.slice(prefix.length) : name, shown(state[field][i])];
    }));
  }
  function roleOf(n, base) {
    if (n.name.indexOf(base + ".") === 0) return n.name.slice(base.length + 1).replace(/(\.\d+)+$/, "");
    return n.op || n.kind;
  }
  function table(title, columns, rows) {
    var t = el("table", null, "summary");
    t.appendChild(el("caption", title));
    var head = el("tr");
    columns.forEach(function (c) { head.appendChild(el("th", c)); });
    var thead = el("thead");
    thead.appendChild(head);
    t.appendChild(thead);
    var body = el("tbody");
    rows.slice(0, MAX_ROWS).forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (c, j) { tr.appendChild(el("td", c, j ? "num" : "")); });
      body.appendChild(tr);
    });
    if (rows.length > MAX_ROWS) {
      var more = el("tr"), td = el("td", "… and " + (rows.length - MAX_ROWS) + " more");
      td.colSpan = columns.length;
      more.appendChild(td);
      body.appendChild(more);
    }
    t.appendChild(body);
    return t;
  }

  // Scroll `container` (not the page) so that `item` is in view.
  function reveal(item, container) {
    var r = item.getBoundingClientRect(), c = container.getBoundingClientRect();
    if (r.top < c.top || r.bottom > c.bottom) {
      container.scrollTop += (r.top + r.bottom) / 2 - (c.top + c.bottom) / 2;
    }
  }

  function go(to) {
    k = Math.max(0, Math.min(visible.length - 1, to));
    render();
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (k === visible.length - 1) go(0);
    $("player-play").textContent = "⏸ Pause";
    timer = setInterval(function () {
      if (k >= visible.length - 1) { stop(); return; }
      go(k + 1);
    }, 1000 / Number($("player-speed").value));
  }
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("player-play").textContent = "▶ Play";
  }

  // Open or close groups, keeping the learner at the same point of the pass.
  function relayout(keepView) {
    var at = visible.length ? visible[k].last : 0;
    computeVisible();
    k = 0;
    for (var v = 0; v < visible.length; v++) if (visible[v].first <= at && at <= visible[v].last) k = v;
    build();
    if (!keepView) { sizeHost(); readable(); }
    render();
  }
  function setLevel(level) {
    arrange(level);
    open = levelState(level);
    custom = false;
    $("player-level").value = level;
    relayout(false);
  }
  function toggle(g) {
    var before = boxes["g" + g] || frames["g" + g];
    var sx = before ? before.x * zoom.s + zoom.x : 0, sy = before ? before.y * zoom.s + zoom.y : 0;
    open[g] = !open[g];
    custom = true;
    $("player-level").value = "custom";
    relayout(true);
    sizeHost();
    var after = boxes["g" + g] || frames["g" + g];
    if (after) {  // keep the clicked group where it was on the screen
      zoom.x += sx - (after.x * zoom.s + zoom.x);
      zoom.y += sy - (after.y * zoom.s + zoom.y);
      applyView();
    }
    render();
  }

  // Where the drawing goes (beside the explanation on a wide page, else above it) and the
  // level to start at: the finest whose whole drawing fits its box with readable text, in the
  // arrangement that shows it finest (then largest). `level` given: only the arrangement.
  var main = document.querySelector("main");
  function arrange(level) {
    var options = window.innerWidth >= 1100 ? ["side", "stacked"] : ["stacked"];
    var candidates = level ? [level] : ["op"].concat(kindsPresent);
    var best = null;
    options.forEach(function (option) {
      main.className = option;
      var box = fitBox = { w: host.clientWidth, h: GRAPH_MAX };
      for (var c = 0; c < candidates.length; c++) {
        open = levelState(candidates[c]);
        var b = layoutBlock(null), scale = Math.min(fitScale(b.w, b.h, box), 1);
        if (scale < MIN_SCALE && c < candidates.length - 1) continue;
        var readable = scale >= MIN_SCALE, bestReadable = best && best.scale >= MIN_SCALE;
        if (!best || c < best.c || (c === best.c && readable &&
            (!bestReadable || scale > best.scale + 0.01))) {
          best = { option: option, c: c, scale: scale };
        }
        break;
      }
    });
    main.className = best.option;
    fitBox = { w: host.clientWidth, h: GRAPH_MAX };
    return candidates[best.c];
  }

  // ---- controls -----------------------------------------------------------------------------------
  var levelSelect = $("player-level");
  var names = { op: "every op", neuron: "by neuron", step: "by time step", layer: "by layer" };
  ["op"].concat(kindsPresent).forEach(function (level) {
    var o = el("option", names[level] || "by " + level);
    o.value = level;
    levelSelect.appendChild(o);
  });
  var customOption = el("option", "as opened");
  customOption.value = "custom";
  customOption.disabled = true;
  levelSelect.appendChild(customOption);
  levelSelect.addEventListener("change", function () { stop(); setLevel(levelSelect.value); });

  $("player-start").addEventListener("click", function () { stop(); go(0); });
  $("player-prev").addEventListener("click", function () { stop(); go(k - 1); });
  $("player-next").addEventListener("click", function () { stop(); go(k + 1); });
  $("player-end").addEventListener("click", function () { stop(); go(visible.length - 1); });
  $("player-play").addEventListener("click", play);
  $("player-slider").addEventListener("input", function () { stop(); go(Number($("player-slider").value)); });
  $("player-speed").addEventListener("change", function () { if (timer !== null) { stop(); play(); } });
  $("player-fit").addEventListener("click", fit);
  $("player-zoom-in").addEventListener("click", function () { var b = viewSize(); zoomBy(1.25, b.w / 2, b.h / 2); });
  $("player-zoom-out").addEventListener("click", function () { var b = viewSize(); zoomBy(0.8, b.w / 2, b.h / 2); });
  $("player-follow").addEventListener("change", function () { render(); });

  // Pan by dragging; zoom with ctrl + wheel (a trackpad's pinch) around the pointer; a click
  // (no drag) on a group opens or closes it.
  var drag = null;
  canvas.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, zx: zoom.x, zy: zoom.y, moved: false };
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    canvas.classList.add("panning");
    zoom.x = drag.zx + dx;
    zoom.y = drag.zy + dy;
    applyView();
  });
  window.addEventListener("pointerup", function (e) {
    if (!drag) return;
    var moved = drag.moved;
    drag = null;
    canvas.classList.remove("panning");
    if (moved) return;
    var target = e.target.closest ? e.target.closest("[data-group]") : null;
    if (target && canvas.contains(target)) { stop(); toggle(Number(target.getAttribute("data-group"))); }
  });
  canvas.addEventListener("wheel", function (e) {
    if (!e.ctrlKey && !e.metaKey) return;  // a plain wheel scrolls the page
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    zoomBy(Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Escape" && window.parent !== window) {  // shown in a page: it may close us
      window.parent.postMessage("glassgrad-player:close", "*");
      return;
    }
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT") && t.type !== "checkbox") return;
    if (e.key === "ArrowRight") { stop(); go(k + 1); }
    else if (e.key === "ArrowLeft") { stop(); go(k - 1); }
    else if (e.key === "Home") { stop(); go(0); }
    else if (e.key === "End") { stop(); go(visible.length - 1); }
    else if (e.key === " " && !(t && t.tagName === "BUTTON")) play();
    else if (e.key === "+" || e.key === "=") { var b = viewSize(); zoomBy(1.25, b.w / 2, b.h / 2); }
    else if (e.key === "-") { var c = viewSize(); zoomBy(0.8, c.w / 2, c.h / 2); }
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", function () {
    if (custom) { sizeHost(); readable(); render(); } else setLevel(levelSelect.value);
  });

  // Start: the level asked for (player(level=...)) or in the address (#level=neuron&step=12),
  // else the finest that fits. A page shown in a frame of another page (srcdoc: no address of
  // its own) reads the same from the frame's name, "glassgrad-player#level=layer&step=0".
  var hash = {}, address = location.hash.replace(/^#/, ""), NAMED = "glassgrad-player#";
  if (!address && window.name.indexOf(NAMED) === 0) address = window.name.slice(NAMED.length);
  address.split("&").forEach(function (part) {
    var kv = part.split("=");
    if (kv.length === 2) hash[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]);
  });
  var start = hash.level || data.level;
  if (!start || (start !== "op" && kindsPresent.indexOf(start) < 0)) start = arrange(null);
  setLevel(start);
  if (hash.step !== undefined && /^\d+$/.test(hash.step)) go(Number(hash.step));
})();
