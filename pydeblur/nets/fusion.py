"""CPU inference with fused convolutions: conv + ReLU and conv + residual add as one oneDNN kernel.

On a CPU the small deblurring networks spend a third of their bf16 inference time
outside the convolutions: ReLUs and residual additions each read and write a whole
activation map, and autocast casts every weight to bf16 on every call. oneDNN can
apply the ReLU and the addition inside the convolution (its post-ops), which
``torch.compile`` uses on CPUs; :func:`fuse_for_inference` gets the same kernels in
eager mode, with no compilation, by rewriting a copy of the network once: weights
cast once to the inference dtype, ``Conv2d`` + ``ReLU`` and the ResBlocks' second
convolution + skip each become one call. The copy computes what the network does
(up to rounding); it is for inference only (no gradients).
"""

from __future__ import annotations

import copy

from ._blocks import BiasFreeResBlock, ResBlock
from ._torch import nn, torch


def fused_convolutions_available(device: torch.device, dtype: torch.dtype = torch.float32) -> bool:
    """Whether this PyTorch build and CPU run oneDNN's fused convolutions in ``dtype`` on ``device``.

    CPU only. bf16 needs oneDNN's bf16 kernels, which need AVX512-BW/VL/DQ or AVX-NE-CONVERT;
    on other CPUs (an AVX2-only EPYC, say) bf16 inference runs unfused under autocast.
    """
    if not (device.type == "cpu" and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_convolution_pointwise")):
        return False
    return dtype != torch.bfloat16 or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class FusedConv(nn.Module):
    """A zero-padded ``nn.Conv2d``, optionally followed by ReLU, as one oneDNN call.

    ``forward(x, residual)`` adds ``residual`` to the convolution (before the ReLU) in
    the same kernel. Inputs are cast to the weights' dtype; the output has that dtype.
    """

    def __init__(self, conv: nn.Conv2d, dtype: torch.dtype, *, relu: bool = False):
        super().__init__()
        if not _fusable(conv):
            raise ValueError(f"only zero-padded nn.Conv2d layers with explicit padding fuse; got {conv}.")
        weight = conv.weight.detach().to(dtype).contiguous(memory_format=torch.channels_last)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().to(dtype))
        self.geometry = (list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)
        self.relu = relu

    def forward(self, x, residual=None):
        x = x.to(self.weight.dtype)
        padding, stride, dilation, groups = self.geometry
        if residual is None:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self.weight, self.bias, padding, stride, dilation, groups,
                "relu" if self.relu else "none", [], "")
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, residual.to(self.weight.dtype), self.weight, self.bias, padding, stride, dilation, groups,
            "add", None, "relu" if self.relu else None, [], None)


class FusedResBlock(nn.Module):
    """A :class:`~pydeblur.nets._blocks.ResBlock` or ``BiasFreeResBlock`` as two fused calls:
    conv + ReLU, then conv + skip."""

    def __init__(self, block: ResBlock | BiasFreeResBlock, dtype: torch.dtype):
        super().__init__()
        first, second = (block.body[0], block.body[2]) if isinstance(block, ResBlock) else (block.first,
                                                                                            block.second)
        self.first = FusedConv(first, dtype, relu=True)
        self.second = FusedConv(second, dtype)

    def forward(self, x):
        return self.second(self.first(x), residual=x)


def fuse_for_inference(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy of ``model`` whose convolutions run fused, with weights in ``dtype``.

    ResBlocks (and the denoiser's bias-free ones) become :class:`FusedResBlock`; inside
    ``nn.Sequential`` a ``Conv2d`` followed by ``ReLU`` becomes one :class:`FusedConv`
    (the ReLU is replaced by ``nn.Identity`` so layer indices stay); every other
    zero-padded ``Conv2d`` becomes a :class:`FusedConv` with its weights pre-cast. Other
    layers are kept and run as before (under autocast, when the caller enables it).
    ``model`` is not changed.
    """
    fused = copy.deepcopy(model).eval()
    with torch.no_grad():
        _fuse_children(fused, dtype)
    return fused.requires_grad_(False)


def _fusable(layer) -> bool:
    return (type(layer) is nn.Conv2d and layer.padding_mode == "zeros"
            and not isinstance(layer.padding, str))


def _fuse_children(module: nn.Module, dtype) -> None:
    children = list(module.named_children())
    absorbed = set()  # ReLUs now inside the convolution before them
    for index, (name, child) in enumerate(children):
        if name in absorbed:
            continue
        following = children[index + 1] if index + 1 < len(children) else (None, None)
        if isinstance(child, (ResBlock, BiasFreeResBlock)):
            setattr(module, name, FusedResBlock(child, dtype))
        elif _fusable(child):
            relu = isinstance(module, nn.Sequential) and type(following[1]) is nn.ReLU
            setattr(module, name, FusedConv(child, dtype, relu=relu))
            if relu:
                setattr(module, following[0], nn.Identity())
                absorbed.add(following[0])
        else:
            _fuse_children(child, dtype)
