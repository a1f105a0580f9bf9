"""fit's progress bar, in a terminal and in a notebook.

`progress_bar(total, progress)` is what `fit` trains under. With `progress=None` a bar shows
where someone is watching: when stderr is a terminal, or in a Jupyter kernel (where stderr is
never one). What the bar is depends on where it runs:

- in a terminal: tqdm's text bar on stderr;
- in a Jupyter kernel with ipywidgets: tqdm's notebook widget while training;
- in a Jupyter kernel without ipywidgets: a plain text line, updated in place (tqdm would
  warn about the missing widgets, so `tqdm.auto` is never imported: not even `import nn`
  warns).

In a kernel the bar is displayed with a display id, and when training ends (or stops on an
error) that display is replaced by the bar's final line: 100%, the steps, the time and the last
loss and accuracy (as plain text; for the widget also as HTML with a <progress> bar). So the
bar stays, and a saved notebook (run by nbclient, or opened where widgets are not loaded) shows
that line, not the "0%" a widget's text would have kept from the moment it was first shown.
"""
from __future__ import annotations

import functools
import html
import sys

from tqdm.std import tqdm as text_tqdm


def progress_bar(total: int, progress: bool | None = None) -> text_tqdm:
    """A tqdm bar for `total` steps (use it as a context manager): shown when `progress` is
    True, or when it is None and a terminal or a Jupyter kernel is there to show it."""
    kernel = _kernel()
    show = bool(progress) if progress is not None else kernel is not None or _stderr_is_terminal()
    if not show:
        return text_tqdm(total=total, disable=True)
    if kernel is None:
        return text_tqdm(total=total, unit="step")
    widget_bar = _widget_bar_class()
    if widget_bar is not None:
        return widget_bar(total=total, unit="step", display=False)
    return _TextLine(total=total, unit="step")


def _kernel():
    """The IPython shell of the Jupyter kernel we run in, or None (no IPython is imported for
    this: a kernel has always imported it)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def final_line(bar: text_tqdm) -> str:
    """The bar's last line as tqdm writes it, and "(stopped)" when it stopped before the end."""
    line = bar.format_meter(**{**bar.format_dict, "ascii": False})
    return line if _finished(bar) else f"{line} (stopped)"


def final_html(bar: text_tqdm) -> str:
    """The bar's last line as HTML, with a <progress> element for the bar (sanitizers keep it,
    so an untrusted notebook shows it too): green when finished, red when it stopped early."""
    parts = {**bar.format_dict, "bar_format": "{l_bar}\x00{r_bar}"}
    left, _, right = bar.format_meter(**parts).partition("\x00")
    left, right = left.rstrip("|").strip(), right.lstrip("|").strip()
    color = "#1a7f37" if _finished(bar) else "#b32424"
    note = "" if _finished(bar) else " (stopped)"
    return (f'<div class="glassgrad-progress" style="font-family: monospace; color: {color}">'
            f'{html.escape(left)} <progress value="{bar.n}" max="{bar.total or max(bar.n, 1)}" '
            f'style="width: 12em; vertical-align: middle"></progress> '
            f"{html.escape(right + note)}</div>")


def _finished(bar: text_tqdm) -> bool:
    return bar.total is None or bar.n >= bar.total


class _ShownInKernel:
    """What both kernel bars share: a display of their own (with a display id), replaced when
    the bar closes by its final line (`final_line`, and `final_html` for the widget); and a
    postfix (fit sets one after every step) that waits for tqdm's next refresh, at most every
    `mininterval` seconds, since a kernel sends every refresh to the notebook as a message."""

    handle = None  # the IPython DisplayHandle; None until shown

    def show(self, what, raw: bool = False) -> None:
        from IPython.display import display

        if self.handle is None:
            self.handle = display(what, raw=raw, display_id=True)
        else:
            self.handle.update(what, raw=raw)

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs) -> None:
        super().set_postfix(ordered_dict, refresh=False, **kwargs)

    def show_final(self, as_html: bool) -> None:
        bundle = {"text/plain": final_line(self)}
        if as_html:
            bundle["text/html"] = final_html(self)
        self.show(bundle, raw=True)


class _TextLine(_ShownInKernel, text_tqdm):
    """In a kernel without ipywidgets: tqdm's line as plain text, in one display updated in
    place (at most every `mininterval` seconds, as tqdm refreshes)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, gui=True, **kwargs)  # gui: tqdm writes nothing to a stream
        self.display()

    def display(self, msg=None, pos=None) -> None:  # tqdm's refresh calls this
        self.show({"text/plain": msg or str(self)}, raw=True)

    def close(self) -> None:
        if self.disable:
            return
        super().close()
        self.show_final(as_html=False)


@functools.cache
def _widget_bar_class():
    """tqdm's notebook bar made to end as its final line, or None without ipywidgets."""
    try:
        import ipywidgets  # noqa: F401  (only whether it is there)
        from tqdm.notebook import tqdm_notebook
    except ImportError:
        return None

    class WidgetBar(_ShownInKernel, tqdm_notebook):
        """tqdm's notebook widget while training; its final line once closed (and its widget
        models closed too, layouts and styles included: the kernel keeps none of them)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.show(self.container)

        def close(self) -> None:
            if self.disable:
                return
            super().close()
            self.show_final(as_html=True)
            for widget in (*self.container.children, self.container):
                for model in (getattr(widget, "style", None), widget.layout, widget):
                    if model is not None:
                        model.close()

    return WidgetBar

