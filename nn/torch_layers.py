"""The one PyTorch layer glassgrad needs that PyTorch lacks: an RNN that fits in a Sequential.

`torch.nn.RNN` returns `(every hidden state, the last one)`, so it cannot sit in a
`torch.nn.Sequential` (the next layer would get a tuple). glassgrad's `nn.RNN` returns every
hidden state, and `RNNStates` does the same in PyTorch. It is an `nn.RNN` (same parameters,
same names, `weight_ih_l0` ...), so `torch.save`, DistributedDataParallel and `nn.from_torch`
treat it as one. This module imports torch: `nn.to_torch` imports it only when called, so
`import nn` never loads PyTorch. `nn.torch_code` copies this class's source into the code it
writes when a model needs it.
"""
from torch import nn


class RNNStates(nn.RNN):
    """nn.RNN returning only its output, every hidden state: (batch, steps, hidden) when
    batch_first. h0, if given, is one state per sequence: (batch, hidden)."""

    def forward(self, x, h0=None):
        output, _ = super().forward(x, None if h0 is None else h0.unsqueeze(0))
        return output
