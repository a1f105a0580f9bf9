// The training timeline: shows a run recorded by nn.Recorder (embedded as gzipped JSON) at the step
// chosen on the scrubber: the loss and accuracy curves with a marker, the decision boundary
// (2-D inputs) and the parameters as heatmaps. A step recorded in full opens in the player,
// whose page is embedded gzipped and shown in a sandboxed frame. Every number comes from the
// data; text goes into the page with textContent only.
(function () {
  "use strict";
  function unpack(b64) {  // gzip in base64 -> text
    var stream = new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  function bytes(b64) {
    var text = atob(b64), out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  if (typeof DecompressionStream === "undefined") {
    document.getElementById("tl-caption").textContent = "This browser cannot unpack the " +
      "timeline (it lacks DecompressionStream): open the page in a current Chrome, Edge, " +
      "Firefox or Safari.";
    return;
  }
  unpack(document.getElementById("timeline-data").textContent.trim()).then(function (text) {
    show(JSON.parse(text));
  });

  function show(data) {
    var S = data.steps, B = data.batches, E = data.epochs;
    var AFTER = data.stopped ? "when training was stopped" : "after training";  // at step S
    var POSITIVE = [49, 110, 189], NEGATIVE = [208, 58, 46], NOT_FINITE = [150, 150, 150];
    var PALETTE = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
      [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];

    var $ = glassgradDom.byId, el = glassgradDom.el, svg = glassgradDom.svg;
    function g4(x) {  // 4 significant digits, as Python's %.4g
      if (x === 0) return "0";
      var e = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(4)))));
      if (e < -4 || e >= 4) {
        var p = x.toExponential(3).split("e"), m = p[0].replace(/\.?0+$/, ""), n = Number(p[1]);
        return m + "e" + (n < 0 ? "-" : "+") + (Math.abs(n) < 10 ? "0" : "") + Math.abs(n);
      }
      return x.toFixed(Math.max(0, 3 - e)).replace(/\.?0+$/, "") || "0";
    }
    function mix(color, strength) {  // `color` over white, at `strength` (0: white, 1: color)
      return color.map(function (c) { return Math.round(255 + (c - 255) * strength); });
    }
    function rgb(c) { return "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")"; }
    function paletteAt(n) {  // a class's colour; the remainder taken non-negative
      return PALETTE[((n % PALETTE.length) + PALETTE.length) % PALETTE.length];
    }

    // ---- snapshots: the parameters and the boundary kept at some steps --------------------------
    var snaps = data.snapshots;
    function snapshotOf(k) {  // the index of the last snapshot at or before step k
      var lo = 0, hi = snaps.length - 1;
      while (lo < hi) {
        var mid = (lo + hi + 1) >> 1;
        if (snaps[mid] <= k) lo = mid; else hi = mid - 1;
      }
      return lo;
    }
    var P = data.parameters.names.length;
    var params = new Float64Array(bytes(data.parameters.frames).buffer);
    var boundary = data.boundary;
    var cells = boundary ? bytes(boundary.frames) : null;
    var fullAt = {};
    data.full.forEach(function (f) { fullAt[f.step] = f; });

    // ---- charts ---------------------------------------------------------------------------------
    var M = { left: 46, right: 18, top: 20, bottom: 22 };
    var charts = [
      { id: "tl-loss", title: data.lossTitle, values: data.loss, epoch: data.epoch.loss,
        val: data.epoch.val_loss, percent: false },
      { id: "tl-accuracy", title: "accuracy", values: data.accuracy, epoch: data.epoch.accuracy,
        val: data.epoch.val_accuracy, percent: true }
    ];
    function drawChart(c) {
      var box = $(c.id), w = Math.max(200, box.clientWidth), h = Math.max(100, box.clientHeight);
      box.replaceChildren();
      box.setAttribute("viewBox", "0 0 " + w + " " + h);
      var finite = c.values.concat(c.epoch || [], c.val || []).filter(function (v) { return v !== null; });
      var top = c.percent ? 1 : roundUp(Math.max.apply(null, finite.concat([0])));
      c.x = function (k) { return M.left + (w - M.left - M.right) * (S ? k / S : 0); };
      c.y = function (v) { return h - M.bottom - (h - M.top - M.bottom) * (v / top); };
      var t = svg("text", { x: M.left, y: 13, "class": "chart-title" }, box);
      t.textContent = c.title;
      [0, 0.5, 1].forEach(function (f) {
        var y = c.y(f * top);
        svg("line", { x1: M.left, x2: w - M.right, y1: y, y2: y, "class": "grid" }, box);
        var label = svg("text", { x: M.left - 5, y: y + 4, "class": "tick", "text-anchor": "end" }, box);
        label.textContent = c.percent ? Math.round(f * 100) + "%" : g4(f * top);
      });
      ticks(S).forEach(function (k) {
        var label = svg("text", { x: c.x(k), y: h - 6, "class": "tick",
          "text-anchor": k === S && k > 0 ? "end" : "middle" }, box);
        label.textContent = String(k);
      });
      data.full.forEach(function (f) {
        var x = c.x(f.step), y = h - M.bottom;
        var mark = svg("path", { d: "M" + x + " " + (y - 7) + "l-4 7h8z", "class": "full-mark" }, box);
        svg("title", {}, mark).textContent = "step " + f.step + ": recorded in full";
      });
      // x = k is step k: its batch's loss, on the parameters before its update (as the marker,
      // the full steps' marks and the heatmaps show it); an epoch's mean sits in its middle
      line(box, c, c.values.map(function (v, k) { return [k, v]; }),
        "series step" + (B > 1 ? " noisy" : ""));
      if (c.epoch && B > 1) {
        line(box, c, c.epoch.map(function (v, e) { return [e * B + (B - 1) / 2, v]; }),
             "series epoch");
      }
      if (c.val) line(box, c, c.val.map(function (v, e) { return [(e + 1) * B, v]; }), "series val");
      c.marker = svg("line", { y1: M.top - 4, y2: h - M.bottom, "class": "marker" }, box);
      c.dot = svg("circle", { r: 4, "class": "marker-dot" }, box);
      box.onclick = function (e) {
        var r = box.getBoundingClientRect();
        var k = Math.round((e.clientX - r.left - M.left) / (w - M.left - M.right) * S);
        stop(); go(k);
      };
    }
    function line(box, c, points, cls) {
      var d = "", pen = "M";
      points.forEach(function (p) {
        if (p[1] === null) { pen = "M"; return; }
        d += pen + c.x(p[0]).toFixed(1) + " " + c.y(p[1]).toFixed(1) + " ";
        pen = "L";
      });
      svg("path", { d: d, "class": cls }, box);
    }
    function roundUp(x) {  // the next round number at or above x (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, ...)
      if (!(x > 0)) return 1;
      var mag = Math.pow(10, Math.floor(Math.log10(x)));
      return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map(function (m) { return m * mag; })
        .filter(function (v) { return v >= x * 0.9999; })[0];
    }
    function ticks(n) {  // a few round step numbers from 0 to n
      var raw = n / 5, mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
      var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (s) { return s >= raw; })[0];
      var out = [];
      for (var k = 0; k <= n; k += step) out.push(k);
      return out;
    }
    function placeMarkers(k) {
      charts.forEach(function (c) {
        var x = c.x(k).toFixed(1), v = k < S ? c.values[k] : null;
        c.marker.setAttribute("x1", x);
        c.marker.setAttribute("x2", x);
        c.dot.setAttribute("cx", x);
        c.dot.setAttribute("cy", v === null ? -10 : c.y(v).toFixed(1));
        c.dot.style.display = v === null ? "none" : "";
      });
    }

    // ---- the decision boundary ------------------------------------------------------------------
    var canvas = $("tl-boundary"), ctx = canvas.getContext("2d");
    var grid = boundary ? boundary.grid : 0, image = null;
    if (boundary) {
      var off = document.createElement("canvas");
      off.width = off.height = grid;
      image = { canvas: off, ctx: off.getContext("2d") };
    } else {
      $("tl-boundary-box").hidden = true;
      document.querySelector("main").classList.add("no-boundary");
    }
    function drawBoundary(k) {
      if (!boundary) return;
      var s = snapshotOf(k), base = s * grid * grid, size = canvas.clientWidth || 300;
      var ratio = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(size * ratio)) {
        canvas.width = canvas.height = Math.round(size * ratio);
      }
      var W = canvas.width, pixels = image.ctx.createImageData(grid, grid), broken = 0;
      for (var j = 0; j < grid; j++) {
        for (var i = 0; i < grid; i++) {
          var code = cells[base + j * grid + i], c;
          if (code === boundary.notFinite) { c = NOT_FINITE; broken++; }
          else if (boundary.kind === "score") {
            var v = code - 128;
            c = mix(v > 0 ? POSITIVE : NEGATIVE, 0.12 + 0.5 * Math.abs(v) / 127);
          } else c = mix(paletteAt(code), 0.35);
          var at = ((grid - 1 - j) * grid + i) * 4;  // row j is y going up; the canvas goes down
          pixels.data[at] = c[0]; pixels.data[at + 1] = c[1]; pixels.data[at + 2] = c[2];
          pixels.data[at + 3] = 255;
        }
      }
      image.ctx.putImageData(pixels, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(image.canvas, 0, 0, W, W);
      // The grid's points sit at the centres of its cells: the canvas spans half a cell more.
      var dx = (boundary.x[1] - boundary.x[0]) / (grid - 1), dy = (boundary.y[1] - boundary.y[0]) / (grid - 1);
      function px(x) { return (x - boundary.x[0] + dx / 2) / (dx * grid) * W; }
      function py(y) { return W - (y - boundary.y[0] + dy / 2) / (dy * grid) * W; }
      function cx(i) { return (i + 0.5) / grid * W; }
      function cy(j) { return W - (j + 0.5) / grid * W; }
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2 * ratio;
      ctx.beginPath();
      contour(base, cx, cy);
      ctx.stroke();
      boundary.points.forEach(function (p) {
        var color = boundary.kind === "score" ? (p[2] ? POSITIVE : NEGATIVE) : paletteAt(p[2]);
        ctx.beginPath();
        ctx.arc(px(p[0]), py(p[1]), 3.5 * ratio, 0, 2 * Math.PI);
        ctx.fillStyle = rgb(color);
        ctx.fill();
        ctx.lineWidth = 1 * ratio;
        ctx.strokeStyle = "#222";
        ctx.stroke();
      });
      $("tl-boundary-title").textContent = k < S ? "decision boundary at step " + k
        : "decision boundary " + AFTER;
      $("tl-boundary-note").textContent = note(k, s) + (boundary.kind === "score"
        ? "blue: the model says positive (output above its threshold), red: negative; " +
          "deeper: further from the threshold; the line: the threshold"
        : "each colour: the class the model picks there; lines: where its pick changes") +
        ". Points: the training samples, coloured by their label." + (broken ? " Grey (" +
        broken + " of " + grid * grid + " points): the output there is not a finite number " +
        "(nan or ±inf): training diverged." : "");
    }
    // The line where the output crosses the threshold: between neighbouring grid points on either
    // side, where the straight line between their codes crosses (marching squares); for classes,
    // the borders between cells of different classes.
    function contour(base, cx, cy) {
      function at(i, j) { return cells[base + j * grid + i]; }
      function known(i, j) { return at(i, j) !== boundary.notFinite; }  // no line to a grey cell
      for (var j = 0; j < grid; j++) {
        for (var i = 0; i < grid; i++) {
          if (boundary.kind === "class") {
            if (!known(i, j)) continue;
            if (i + 1 < grid && known(i + 1, j) && at(i, j) !== at(i + 1, j)) {
              var x = (cx(i) + cx(i + 1)) / 2, h = Math.abs(cy(0) - cy(1)) / 2;
              ctx.moveTo(x, cy(j) - h); ctx.lineTo(x, cy(j) + h);
            }
            if (j + 1 < grid && known(i, j + 1) && at(i, j) !== at(i, j + 1)) {
              var y = (cy(j) + cy(j + 1)) / 2, w = Math.abs(cx(1) - cx(0)) / 2;
              ctx.moveTo(cx(i) - w, y); ctx.lineTo(cx(i) + w, y);
            }
            continue;
          }
          if (i + 1 >= grid || j + 1 >= grid) continue;
          var corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
          if (!corners.every(function (c) { return known(c[0], c[1]); })) continue;
          var values = corners.map(function (c) { return at(c[0], c[1]) - 128.5; });
          var crossings = [];
          for (var e = 0; e < 4; e++) {
            var a = values[e], b = values[(e + 1) % 4];
            if ((a > 0) !== (b > 0)) {
              var t = a / (a - b), p = corners[e], q = corners[(e + 1) % 4];
              crossings.push([cx(p[0]) + t * (cx(q[0]) - cx(p[0])), cy(p[1]) + t * (cy(q[1]) - cy(p[1]))]);
            }
          }
          for (var c = 0; c + 1 < crossings.length; c += 2) {
            ctx.moveTo(crossings[c][0], crossings[c][1]);
            ctx.lineTo(crossings[c + 1][0], crossings[c + 1][1]);
          }
        }
      }
    }
    function note(k, s) {
      if (snaps[s] === k) return "";
      return "Kept every " + (snaps[1] - snaps[0]) + " steps: this is step " + snaps[s] + "'s. ";
    }

    // ---- the parameters as heatmaps -----------------------------------------------------------
    var maps = data.parameters.units.map(function (unit) {
      var box = el("figure", null, "heatmap");
      var cols = Math.max.apply(null, unit.rows.map(function (r) { return r.cells.length; }));
      var labelled = unit.rows.length === 1 && cols <= 12;  // a strip: its names under the cells
      var canvas = el("canvas");
      var caption = el("figcaption");
      caption.appendChild(el("b", unit.name));
      caption.appendChild(document.createTextNode(" " + describe(unit, cols)));
      caption.title = unit.name + ": " + describe(unit, cols) + "; colours from -" + g4(unit.scale) +
        " (red) to +" + g4(unit.scale) + " (blue)";
      box.appendChild(caption);
      box.appendChild(canvas);
      var names = null;
      if (labelled) {
        names = el("div", null, "columns");
        unit.rows[0].cells.forEach(function (c) { names.appendChild(el("span", c[1])); });
        box.appendChild(names);
      }
      $("tl-heatmaps").appendChild(box);
      var map = { unit: unit, canvas: canvas, cols: cols, labelled: labelled, names: names,
                  caption: caption };
      canvas.addEventListener("mousemove", function (e) { hover(map, e); });
      canvas.addEventListener("mouseleave", function () { $("tl-params-note").textContent = legend(); });
      return map;
    });
    function describe(unit, cols) {  // "16 × 3": its rows (neurons) by their parameters
      var rows = unit.rows.length;
      return rows === 1 ? "(" + cols + ")" : rows + " × " + cols;
    }
    // One cell size for every heatmap (so that a cell means the same everywhere): the largest,
    // from 14 px down to 3, that lets them share a row (each at least as wide as its caption on
    // one line) and stay under 260 px tall; a labelled strip's cells grow to 44 px. A caption
    // wraps only when it is wider than the whole panel.
    var GRID = "#cfcfcf";  // the lines between cells, and the outline (timeline.css)
    function sizeMaps() {
      var panel = Math.max(160, $("tl-heatmaps").clientWidth);
      var room = panel - 16 * (maps.length - 1);
      var rows = Math.max.apply(null, maps.map(function (m) { return m.unit.rows.length; }));
      var shared = Math.max(3, Math.min(14, Math.floor(260 / rows)));
      maps.forEach(function (m) { m.label = Math.min(panel, oneLine(m.caption)); });
      function needed(cell) {
        return maps.reduce(function (n, m) { return n + Math.max(m.cols * cell, m.label); }, 0);
      }
      while (shared > 3 && needed(shared) > room) shared--;
      maps.forEach(function (m) {
        var cell = m.labelled ? Math.max(shared, Math.min(44, Math.floor(room / m.cols))) : shared;
        m.cell = cell;
        var ratio = window.devicePixelRatio || 1;
        m.canvas.width = Math.round(m.cols * cell * ratio);
        m.canvas.height = Math.round(m.unit.rows.length * cell * ratio);
        m.canvas.style.width = m.cols * cell + "px";
        m.canvas.style.height = m.unit.rows.length * cell + "px";
        if (m.names) {
          m.names.style.gridTemplateColumns = "repeat(" + m.cols + ", " + cell + "px)";
        }
        m.canvas.parentNode.style.maxWidth = Math.max(m.cols * cell, m.label) + "px";
      });
    }
    function oneLine(caption) {  // the width of a caption's text on one line
      var text = document.createRange();
      text.selectNodeContents(caption);
      caption.style.whiteSpace = "nowrap";
      var width = Math.ceil(text.getBoundingClientRect().width) + 1;
      caption.style.whiteSpace = "";
      return width;
    }
    var broken = 0;  // parameters not finite (nan, ±inf) in the snapshot drawn
    function drawMaps(k) {
      var s = snapshotOf(k), base = s * P;
      broken = 0;
      maps.forEach(function (m) {
        var c = m.canvas.getContext("2d"), ratio = m.canvas.width / (m.cols * m.cell);
        var gap = m.cell >= 8 ? ratio : 0;  // a line between cells, so that a 0 (white) shows
        c.fillStyle = GRID;
        c.fillRect(0, 0, m.canvas.width, m.canvas.height);
        m.unit.rows.forEach(function (row, r) {
          row.cells.forEach(function (cell, j) {
            var v = params[base + cell[0]];
            if (!isFinite(v)) broken++;
            c.fillStyle = rgb(!isFinite(v) ? NOT_FINITE
              : mix(v >= 0 ? POSITIVE : NEGATIVE, Math.min(1, Math.abs(v) / m.unit.scale)));
            c.fillRect(j * m.cell * ratio, r * m.cell * ratio, m.cell * ratio - gap, m.cell * ratio - gap);
          });
        });
      });
      $("tl-params-title").textContent = (k < S ? "parameters at step " + k + " (before its update)"
        : "parameters " + AFTER);
      $("tl-params-note").textContent = note(k, s) + legend();
    }
    function legend() {
      return "blue: positive, red: negative, white: 0; each heatmap is scaled to the largest " +
        "|number| it holds during the run. " + (broken ? "Grey (" + broken + " of " + P +
        "): not a finite number (nan or ±inf): training diverged. " : "") +
        "Point at a cell for its name and number.";
    }
    function hover(m, e) {
      var r = m.canvas.getBoundingClientRect();
      var j = Math.floor((e.clientX - r.left) / m.cell);
      var row = m.unit.rows[Math.floor((e.clientY - r.top) / m.cell)];
      if (!row || !row.cells[j]) return;
      var i = row.cells[j][0], s = snapshotOf(k);
      $("tl-params-note").textContent = data.parameters.names[i] + " = " + g4(params[s * P + i]) +
        (k < S ? " at step " + snaps[s] : " " + AFTER);
    }

    // ---- the step in the player ----------------------------------------------------------------
    var levelSelect = $("tl-level"), chosenLevel = "";
    levelSelect.addEventListener("change", function () { chosenLevel = levelSelect.value; });
    function nearest(k) {
      var before = null, after = null;
      data.full.forEach(function (f) {
        if (f.step < k) before = f.step;
        else if (f.step > k && after === null) after = f.step;
      });
      return [before, after].filter(function (x) { return x !== null; });
    }
    function showFull(k) {
      var f = fullAt[k], text = $("tl-full-text");
      text.replaceChildren();
      $("tl-full-controls").hidden = !f;
      if (f) {
        text.appendChild(el("p", "Step " + k + " was recorded in full: its forward pass, its " +
          "backward pass and the optimizer's update of every parameter, written out with numbers."));
        levelSelect.replaceChildren();
        var auto = el("option", "the player's choice");
        auto.value = "";
        levelSelect.appendChild(auto);
        f.levels.forEach(function (pair) {
          var o = el("option", pair[1]);
          o.value = pair[0];
          levelSelect.appendChild(o);
        });
        levelSelect.value = f.levels.some(function (p) { return p[0] === chosenLevel; }) ? chosenLevel : "";
        $("tl-open").textContent = "Open step " + k + " in the player";
      } else {
        var p = el("p", k < S ? "Step " + k + " is kept as a summary (its numbers, parameters " +
          "and boundary). " : (data.stopped ? "Where Ctrl-C stopped training" : "The end of training") +
          ": the parameters after the last update. ");
        var near = nearest(k);
        if (near.length) {
          p.appendChild(document.createTextNode(data.full.length ? "Recorded in full nearby: " : ""));
          near.forEach(function (s, i) {
            var b = el("button", "step " + s, "link");
            b.type = "button";
            b.addEventListener("click", function () { stop(); go(s); });
            if (i) p.appendChild(document.createTextNode(" or "));
            p.appendChild(b);
          });
        } else if (!data.full.length) {
          p.appendChild(document.createTextNode(
            "No step was recorded in full: nn.Recorder(full=...) chooses them."));
        }
        text.appendChild(p);
      }
    }
    (function () {  // every step recorded in full, as buttons
      var list = $("tl-full-steps");
      if (!data.full.length) return;
      list.appendChild(el("span", "recorded in full: ", "muted"));
      data.full.forEach(function (f) {
        var b = el("button", String(f.step), "chip");
        b.type = "button";
        b.dataset.step = f.step;
        b.addEventListener("click", function () { stop(); go(f.step); });
        list.appendChild(b);
      });
    })();

    var overlay = $("tl-overlay"), frame = $("tl-frame");
    function openPlayer() {
      var f = fullAt[k];
      if (!f) return;
      stop();
      $("tl-overlay-title").textContent = "Step " + f.step + " in the player";
      unpack(f.page).then(function (page) {
        overlay.hidden = false;  // first: the player sizes its drawing to the frame
        document.body.classList.add("overlaid");
        frame.name = "glassgrad-player#" + (levelSelect.value ? "level=" + levelSelect.value : "");
        frame.srcdoc = page;
        $("tl-close").focus();
      });
    }
    function closePlayer() {
      if (overlay.hidden) return;
      overlay.hidden = true;
      document.body.classList.remove("overlaid");
      frame.removeAttribute("srcdoc");
      $("tl-open").focus();
    }
    window.addEventListener("message", function (e) {  // Esc pressed inside the player
      if (e.source === frame.contentWindow && e.data === "glassgrad-player:close") closePlayer();
    });
    $("tl-open").addEventListener("click", openPlayer);
    $("tl-close").addEventListener("click", closePlayer);

    // ---- the scrubber --------------------------------------------------------------------------
    var k = 0, timer = null;
    var slider = $("tl-step"), epochSlider = $("tl-epoch");
    slider.max = String(S);
    epochSlider.max = String(E);
    $("tl-epoch-box").hidden = B === 1;
    function go(to) {
      k = Math.max(0, Math.min(S, to));
      slider.value = String(k);
      epochSlider.value = String(Math.min(E, Math.floor(k / B) + 1));
      $("tl-counter").textContent = k < S ? "step " + k + " / " + S : "end (" + S + " steps)";
      $("tl-caption").textContent = data.captions[k];
      placeMarkers(k);
      drawBoundary(k);
      drawMaps(k);
      showFull(k);
      Array.prototype.forEach.call(document.querySelectorAll("#tl-full-steps .chip"), function (b) {
        b.classList.toggle("current", Number(b.dataset.step) === k);
      });
      $("tl-prev").disabled = k === 0;
      $("tl-next").disabled = k === S;
    }
    function play() {
      if (timer !== null) { stop(); return; }
      if (k >= S) go(0);
      $("tl-play").textContent = "⏸ Pause";
      var every = Math.max(40, Math.min(500, 15000 / Math.max(S, 1)));  // a run plays in ~15 s
      timer = setInterval(function () { if (k >= S) stop(); else go(k + 1); }, every);
    }
    function stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      $("tl-play").textContent = "▶ Play";
    }
    slider.addEventListener("input", function () { stop(); go(Number(slider.value)); });
    epochSlider.addEventListener("input", function () { stop(); go((Number(epochSlider.value) - 1) * B); });
    $("tl-prev").addEventListener("click", function () { stop(); go(k - 1); });
    $("tl-next").addEventListener("click", function () { stop(); go(k + 1); });
    $("tl-play").addEventListener("click", play);
    document.addEventListener("keydown", function (e) {
      if (!overlay.hidden) { if (e.key === "Escape") { closePlayer(); e.preventDefault(); } return; }
      var t = e.target;
      if (t && t.tagName === "SELECT") return;
      var jump = e.shiftKey ? B : 1;
      if (e.key === "ArrowRight") { stop(); go(k + jump); }
      else if (e.key === "ArrowLeft") { stop(); go(k - jump); }
      else if (e.key === "Home") { stop(); go(0); }
      else if (e.key === "End") { stop(); go(S); }
      else if (e.key === " " && !(t && t.tagName === "BUTTON")) play();
      else if (e.key === "Enter" && !(t && t.tagName === "BUTTON")) openPlayer();
      else return;
      e.preventDefault();
    });
    if (data.stopped) { $("tl-stopped").textContent = data.stopped; $("tl-stopped").hidden = false; }
    $("tl-key-epoch").hidden = B === 1;
    $("tl-key-val").hidden = !data.epoch.val_loss;
    function layout() {
      charts.forEach(drawChart);
      sizeMaps();
      go(k);
    }
    window.addEventListener("resize", layout);
    layout();
    document.body.classList.add("ready");  // for tests and screenshots: drawn
  }
})();
