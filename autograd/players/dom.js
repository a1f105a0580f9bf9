// The DOM helpers the player and nn's training timeline share, inlined into each page before
// its own script (and allowed by the page's policy by its hash). Text goes in with
// textContent only: data is never markup.
var glassgradDom = (function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  return {
    byId: function (id) { return document.getElementById(id); },
    el: function (tag, text, className) {          // an HTML element, with text if given
      var e = document.createElement(tag);
      if (text !== undefined && text !== null) e.textContent = text;
      if (className) e.className = className;
      return e;
    },
    svg: function (tag, attrs, parent) {           // an SVG element; undefined attributes left out
      var e = document.createElementNS(SVG, tag);
      for (var a in attrs) if (attrs[a] !== undefined) e.setAttribute(a, attrs[a]);
      if (parent) parent.appendChild(e);
      return e;
    }
  };
})();
