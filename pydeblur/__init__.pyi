"""Type stub of the lazily loaded public names of :mod:`pydeblur` (see ``__init__.py``)."""

from . import (
    base as base,
)
from . import (
    blind as blind,
)
from . import (
    cli as cli,
)
from . import (
    datasets as datasets,
)
from . import (
    io as io,
)
from . import (
    methods as methods,
)
from . import (
    metrics as metrics,
)
from . import (
    nets as nets,
)
from . import (
    operators as operators,
)
from . import (
    psf as psf,
)
from . import (
    restoration as restoration,
)
from . import (
    synth as synth,
)
from . import (
    viz as viz,
)
from ._validation import img_as_float as img_as_float
from .base import BaseDeblurrer as BaseDeblurrer
from .base import NotFittedError as NotFittedError
from .blind import (
    BlindDeblurrer as BlindDeblurrer,
)
from .blind import (
    blind_deconvolve as blind_deconvolve,
)
from .blind import (
    estimate_psf as estimate_psf,
)
from .datasets import sample_image as sample_image
from .io import image_info as image_info
from .io import imread as imread
from .io import imwrite as imwrite
from .metrics import (
    kernel_similarity as kernel_similarity,
)
from .metrics import (
    psnr as psnr,
)
from .metrics import (
    psnr_upto_shift as psnr_upto_shift,
)
from .metrics import (
    ssim as ssim,
)
from .metrics import (
    ssim_upto_shift as ssim_upto_shift,
)
from .nets import BaselineCNN as BaselineCNN
from .nets import DeblurGAN as DeblurGAN
from .nets import DeepDeblur as DeepDeblur
from .nets import NAFNetDeblur as NAFNetDeblur
from .nets import SRNDeblur as SRNDeblur
from .nets.blur_map import blur_map as blur_map
from .nets.blur_map import blur_score as blur_score
from .nets.denoiser import denoise as denoise
from .operators import (
    convolve as convolve,
)
from .operators import (
    convolve_adjoint as convolve_adjoint,
)
from .operators import (
    convolve_spatially_varying as convolve_spatially_varying,
)
from .operators import (
    pad_boundary as pad_boundary,
)
from .restoration import (
    HyperLaplacianDeblurrer as HyperLaplacianDeblurrer,
)
from .restoration import (
    InverseDeblurrer as InverseDeblurrer,
)
from .restoration import (
    PlugAndPlayDeblurrer as PlugAndPlayDeblurrer,
)
from .restoration import (
    RichardsonLucyDeblurrer as RichardsonLucyDeblurrer,
)
from .restoration import (
    TVDeblurrer as TVDeblurrer,
)
from .restoration import (
    WienerDeblurrer as WienerDeblurrer,
)
from .restoration import (
    estimate_noise_sigma as estimate_noise_sigma,
)
from .restoration import (
    hyper_laplacian as hyper_laplacian,
)
from .restoration import (
    inverse as inverse,
)
from .restoration import (
    plug_and_play as plug_and_play,
)
from .restoration import (
    richardson_lucy as richardson_lucy,
)
from .restoration import (
    tv as tv,
)
from .restoration import (
    wiener as wiener,
)
from .synth import BlurRecipe as BlurRecipe
from .synth import PSFSampler as PSFSampler
from .synth import degrade as degrade

__version__: str
__all__: list[str]
