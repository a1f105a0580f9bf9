// The HTML player: replays the steps recorded by autograd.backprop_steps (embedded as JSON).
// Text goes into the page with textContent only; the data is never read as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("player-data").textContent);
  var steps = data.steps;
  var nodes = data.nodes;
  var last = steps.length - 1;
  var k = 0;
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  }

  // ---- the drawing: each drawn Value's texts are label, data, grad (see autograd.draw) ----
  // Graphviz draws a table cell's background as a <polygon> just before the cell's <text>,
  // so the grad cell is the polygon right before the grad text (none: a cell without fill).
  var graph = $("player-graph").querySelector("svg");
  var drawn = nodes.map(function (n) {
    var box = graph && n.box ? graph.querySelector("#" + CSS.escape(n.box)) : null;
    var opBox = graph && n.opBox ? graph.querySelector("#" + CSS.escape(n.opBox)) : null;
    var own = box && n.box === n.id;  // false when the drawing collapsed it into a group
    var texts = own ? box.querySelectorAll("text") : [];
    var hasCells = own && n.kind !== "constant" && texts.length >= 3;
    var before = hasCells ? texts[2].previousElementSibling : null;
    var gradCell = before && before.tagName.toLowerCase() === "polygon" ? before : null;
    return {
      box: box, opBox: opBox,
      dataText: hasCells ? texts[1] : null,
      gradText: hasCells ? texts[2] : null,
      drawnData: hasCells ? texts[1].textContent : null,
      gradCell: gradCell,
      tip: own ? box.querySelector("a") : null
    };
  });

  // ---- the node table ---------------------------------------------------------------------
  var rows = nodes.map(function (n) {
    var tr = el("tr");
    tr.id = "player-row-" + n.id;
    tr.appendChild(el("td", n.id, "id"));
    var name = el("td", n.name, "name");
    name.title = n.name;
    tr.appendChild(name);
    var how = el("td", n.expression || n.kind, "how");
    how.title = n.expression || n.kind;
    tr.appendChild(how);
    var d = el("td", "", "data");
    var g = el("td", "", "grad");
    tr.appendChild(d);
    tr.appendChild(g);
    $("player-rows").appendChild(tr);
    return { tr: tr, data: d, grad: g };
  });

  // Every node's [shown, exact] data and grad after step k (null: not computed yet).
  function stateAt(k) {
    var state = { data: data.initial.data.slice(), grad: data.initial.grad.slice() };
    for (var s = 0; s <= k; s++) {
      steps[s].changes.forEach(function (c) { state[c[1]][c[0]] = c[2]; });
    }
    return state;
  }

  function shown(x) { return x === null ? "—" : x[0]; }

  // The grad cell's fill by the grad's sign, in the hues of autograd.draw's legend.
  function gradFill(x) {
    var f = data.gradFills;
    if (x === null) return f.notComputed;
    var v = Number(x[1]);
    return isNaN(v) ? f.nan : v > 0 ? f.positive : v < 0 ? f.negative : f.zero;
  }

  function setCell(cell, x, requiresGrad) {
    cell.textContent = requiresGrad === false ? "no grad" : shown(x);
    cell.dataset.exact = x === null ? "" : x[1];
    cell.title = x === null ? (requiresGrad === false ? "a constant" : "not computed yet")
                            : x[1];
    cell.classList.toggle("pending", x === null);
  }

  function render() {
    var step = steps[k];
    var state = stateAt(k);
    var changed = {};
    step.changes.forEach(function (c) { changed[c[0]] = true; });
    var receiving = {};
    step.terms.forEach(function (p) { receiving[p] = true; });

    nodes.forEach(function (n, i) {
      var r = rows[i];
      setCell(r.data, state.data[i]);
      setCell(r.grad, state.grad[i], n.requiresGrad);
      r.tr.classList.toggle("current", step.node === i);
      r.tr.classList.toggle("changed", !!changed[i]);
      var d = drawn[i];
      if (d.dataText) d.dataText.textContent = state.data[i] === null ? "?" : d.drawnData;
      if (d.gradText && n.requiresGrad) {
        d.gradText.textContent = state.grad[i] === null ? "grad not computed"
                                                        : "grad " + state.grad[i][0];
        d.gradText.setAttribute("font-style", state.grad[i] === null ? "italic" : "normal");
        d.gradText.setAttribute("fill", state.grad[i] === null ? "#777777" : "#000000");
        if (d.gradCell) d.gradCell.setAttribute("fill", gradFill(state.grad[i]));
      }
      if (d.tip) {
        d.tip.setAttributeNS("http://www.w3.org/1999/xlink", "xlink:title",
          n.name + ": data " + shown(state.data[i]) + ", grad " +
          (n.requiresGrad ? shown(state.grad[i]) : "none (a constant)"));
      }
    });

    if (graph) {
      graph.querySelectorAll(".current, .receiving, .flow, .forward").forEach(function (e) {
        e.classList.remove("current", "receiving", "flow", "forward");
      });
      if (step.node !== null) {
        var d = drawn[step.node];
        if (d.box) d.box.classList.add("current");
        if (d.opBox && step.kind !== "seed" && step.kind !== "done") {
          d.opBox.classList.add("current");
          var cls = step.phase === "forward" ? "forward" : "flow";
          nodes[step.node].parents.forEach(function (p, j) {
            var edge = graph.querySelector("#" + CSS.escape(d.opBox.id + "-in" + j));
            if (edge) edge.classList.add(cls);
          });
          var out = graph.querySelector("#" + CSS.escape(d.opBox.id + "-out"));
          if (out) out.classList.add(cls);
        }
      }
      Object.keys(receiving).forEach(function (p) {
        var box = drawn[p].box;
        if (box && !box.classList.contains("current")) box.classList.add("receiving");
      });
    }

    $("player-phase").textContent = step.phase === "forward" ? "forward pass" : "backward pass";
    $("player-phase").className = step.phase;
    $("player-step-title").textContent = step.title;
    var lines = $("player-lines");
    lines.replaceChildren();
    step.lines.forEach(function (line, j) {
      lines.appendChild(el("div", line, j === 0 ? "line first" : "line"));
    });
    $("player-counter").textContent = k + " / " + last;
    $("player-slider").value = String(k);
    $("player-prev").disabled = $("player-start").disabled = k === 0;
    $("player-next").disabled = $("player-end").disabled = k === last;
    if (step.node !== null) {
      reveal(rows[step.node].tr, $("player-nodes"));
      if (drawn[step.node].box) reveal(drawn[step.node].box, $("player-graph"));
    }
  }

  // Scroll `container` (not the page) so that `item` is in view, centred when it was not.
  function reveal(item, container) {
    var r = item.getBoundingClientRect(), c = container.getBoundingClientRect();
    if (r.top < c.top || r.bottom > c.bottom) {
      container.scrollTop += (r.top + r.bottom) / 2 - (c.top + c.bottom) / 2;
    }
    if (r.left < c.left || r.right > c.right) {
      container.scrollLeft += (r.left + r.right) / 2 - (c.left + c.right) / 2;
    }
  }

  function go(to) {
    k = Math.max(0, Math.min(last, to));
    render();
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (k === last) go(0);
    $("player-play").textContent = "⏸ Pause";
    timer = setInterval(function () {
      if (k >= last) { stop(); return; }
      go(k + 1);
    }, 1000 / Number($("player-speed").value));
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("player-play").textContent = "▶ Play";
  }

  $("player-slider").max = String(last);
  $("player-start").addEventListener("click", function () { stop(); go(0); });
  $("player-prev").addEventListener("click", function () { stop(); go(k - 1); });
  $("player-next").addEventListener("click", function () { stop(); go(k + 1); });
  $("player-end").addEventListener("click", function () { stop(); go(last); });
  $("player-play").addEventListener("click", play);
  $("player-slider").addEventListener("input", function () {
    stop();
    go(Number($("player-slider").value));
  });
  $("player-speed").addEventListener("change", function () {
    if (timer !== null) { stop(); play(); }
  });
  $("player-fit").addEventListener("change", function () {
    $("player-graph").classList.toggle("fit", $("player-fit").checked);
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT") && t.type !== "checkbox") return;
    if (e.key === "ArrowRight") { stop(); go(k + 1); }
    else if (e.key === "ArrowLeft") { stop(); go(k - 1); }
    else if (e.key === "Home") { stop(); go(0); }
    else if (e.key === "End") { stop(); go(last); }
    else if (e.key === " " && !(t && t.tagName === "BUTTON")) play();
    else return;
    e.preventDefault();
  });
  render();
})();
