"""The network Deblurrers: SRNDeblur, DeepDeblur, DeblurGAN, NAFNetDeblur and the 3-layer baseline."""

from __future__ import annotations

from ..base import store_params
from ._estimator import NetDeblurrer
from ._torch import torch
from .baseline import BASELINE_SIZES, BaselineNet
from .deblurgan import DEBLURGAN_SIZES, PatchCritic, ResnetGenerator
from .deepdeblur import DEEPDEBLUR_SIZES, DeepDeblurNet
from .losses import PerceptualLoss, gradient_penalty
from .nafnet import NAFNET_SIZES, NAFNet
from .precision import autocast
from .srn import SRN_SIZES, SRNNet

_COMMON_DOC = """
    Parameters
    ----------
    size : str
        Network size: 'paper' as published, 'small' trains on a CPU; SRNDeblur also has
        'medium' (the small widths at the paper's depth, grown from 'small').
    precision : {'auto', 'fp32', 'bf16'}
        Numeric precision of training and inference; 'auto' takes bf16 autocast where
        the CPU (AMX / AVX512-BF16) or GPU runs it natively, fp32 elsewhere.
    device : str, optional
        'cpu', 'cuda', 'cuda:1', ...; default CUDA when available.
    tile, tile_overlap, tile_batch : int
        Inference on images larger than ``tile`` pixels runs in the fewest tiles of at
        most ``tile`` pixels that overlap by at least ``tile_overlap`` (``tile=None``
        never tiles), ``tile_batch`` tiles per forward pass. The default 1024 keeps a
        4000x3000 image under 1.2 GB of working memory with every network here.
    compile : bool
        Run inference through ``torch.compile``, which generates fused kernels for the
        elementwise layers: the first call at a new image (or tile) size compiles,
        10-70 s on a 2-core CPU. Without it, CPU inference already runs the
        convolutions fused with their ReLU and skip additions
        (:mod:`pydeblur.nets.fusion`), and compiling gained little more here (README).
    epochs, steps_per_epoch, batch_size, lr, grad_clip : training schedule
        AdamW at ``lr`` after a linear warm-up, with a cosine decay to lr/10, gradient
        norm clipped at ``grad_clip`` (0 disables).
    crop_size : int or sequence of int
        Side of the training crops; a sequence grows them over equal parts of the
        epochs (e.g. ``(128, 192, 256)``), for datasets that can change their crop.
    loss : {'charbonnier', 'l1', 'mse'}
        Content loss on every output scale.
    frequency_weight : float
        Weight of the L1 distance between the spectra of output and target (0: none).
    weight_decay : float
        AdamW's decoupled weight decay.
    warmup_steps : int, optional
        Steps of the linear learning-rate warm-up; default 2 % of the steps.
    ema_decay : float
        The weights kept (validated, saved) are an exponential moving average of the
        trained ones with this decay; 0 keeps the last weights.
    checkpoint_dtype : {'float32', 'float16'}
        Precision of the checkpoint files (float16 halves them, small enough to commit).
    num_workers : int
        DataLoader worker processes.
    checkpoint_dir : str, optional
        Where a checkpoint is written after every epoch; ``resume`` continues from it.
    warm_start : bool
        ``fit`` starts from the current weights (loaded by ``from_pretrained`` or an
        earlier ``fit``) instead of a fresh initialisation, with a fresh schedule:
        fine-tuning shipped weights on your own data. A ``size`` with the same widths
        and more ResBlocks (SRN 'small' -> 'medium') grows the network: the extra
        ResBlocks start as identities, so training starts from what the weights did.
    progress : bool
        Show a progress bar (tqdm, on stderr) during training.
    callback : callable, optional
        ``callback(entry)`` after every epoch with the history entry (``epoch``,
        ``seconds``, ``lr``, the losses and ``val_psnr`` when validating); under
        torch.distributed on rank 0 only. ``pydeblur train`` prints it.
    seed : int
        Seed of initialisation and data.
"""


class SRNDeblur(NetDeblurrer):
    __doc__ = "Scale-recurrent network (Tao et al. 2018) as a Deblurrer.\n" + _COMMON_DOC

    architecture = "srn"
    sizes = SRN_SIZES

    def __init__(self, *, size="small", precision="auto", device=None, tile=1024, tile_overlap=32,
                 tile_batch=1, compile=False, epochs=10, steps_per_epoch=200, batch_size=8,
                 crop_size=128, lr=1e-4, grad_clip=1.0, loss="charbonnier", frequency_weight=0.1,
                 weight_decay=1e-4, warmup_steps=None, ema_decay=0.999, num_workers=0,
                 checkpoint_dir=None, checkpoint_dtype="float32", resume=True, warm_start=False,
                 progress=True, callback=None, seed=0):
        store_params(self, locals())

    def _build(self, config):
        return SRNNet(channels=tuple(config["channels"]), n_resblocks=config["n_resblocks"])


class DeepDeblur(NetDeblurrer):
    __doc__ = ("Multi-scale CNN of Nah et al. (2017) as a Deblurrer.\n" + _COMMON_DOC
               + """    adversarial_weight : float
        Weight of the optional adversarial loss (a PatchGAN critic trained with
        WGAN-GP); 0 trains with the multi-scale content loss alone.
""")

    architecture = "deepdeblur"
    sizes = DEEPDEBLUR_SIZES

    def __init__(self, *, size="small", precision="auto", device=None, tile=1024, tile_overlap=32,
                 tile_batch=1, compile=False, epochs=10, steps_per_epoch=200, batch_size=8,
                 crop_size=128, lr=1e-4, grad_clip=1.0, loss="charbonnier", frequency_weight=0.1,
                 weight_decay=1e-4, warmup_steps=None, ema_decay=0.999, num_workers=0,
                 checkpoint_dir=None, checkpoint_dtype="float32", resume=True, warm_start=False,
                 progress=True, callback=None, seed=0, adversarial_weight=0.0):
        store_params(self, locals())

    def _build(self, config):
        return DeepDeblurNet(channels=config["channels"], n_resblocks=config["n_resblocks"])

    def _make_optimizers(self, model):
        optimizers = super()._make_optimizers(model)
        if self.adversarial_weight:
            self._critic = PatchCritic(channels=32).to(next(model.parameters()).device)
            optimizers["critic"] = torch.optim.Adam(self._critic.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return optimizers

    def _train_step(self, model, optimizers, blurry, sharp, device, precision):
        if not self.adversarial_weight:
            return super()._train_step(model, optimizers, blurry, sharp, device, precision)
        return _adversarial_step(self, model, self._critic, optimizers, blurry, sharp, device, precision,
                                 content_weight=1.0, adversarial_weight=self.adversarial_weight,
                                 n_critic=1, content=self._content_loss)


class DeblurGAN(NetDeblurrer):
    __doc__ = ("DeblurGAN (Kupyn et al. 2018) as a Deblurrer: ResNet generator, PatchGAN critic, "
               "WGAN-GP.\n" + _COMMON_DOC
               + """    n_critic : int
        Critic updates per generator update (5 in the paper).
    gp_weight : float
        Gradient-penalty weight (10 in the paper).
    content_weight : float
        Weight of the content loss against the adversarial loss (100 in the paper).
    vgg_weights : str, optional
        Path of a torchvision VGG19 state dict: the content loss becomes the
        perceptual (conv3_3) loss of the paper. Without it the content loss is ``loss``
        (+ the frequency term).
        Nothing is downloaded.
""")

    architecture = "deblurgan"
    sizes = DEBLURGAN_SIZES

    def __init__(self, *, size="small", precision="auto", device=None, tile=1024, tile_overlap=32,
                 tile_batch=1, compile=False, epochs=10, steps_per_epoch=200, batch_size=8,
                 crop_size=128, lr=1e-4, grad_clip=1.0, loss="charbonnier", frequency_weight=0.1,
                 weight_decay=1e-4, warmup_steps=None, ema_decay=0.999, num_workers=0,
                 checkpoint_dir=None, checkpoint_dtype="float32", resume=True, warm_start=False,
                 progress=True, callback=None, seed=0, n_critic=5, gp_weight=10.0,
                 content_weight=100.0, vgg_weights=None):
        store_params(self, locals())

    def _build(self, config):
        return ResnetGenerator(channels=config["channels"], n_resblocks=config["n_resblocks"])

    def _make_optimizers(self, model):
        device = next(model.parameters()).device
        self._critic = PatchCritic(channels=self.sizes[self.size]["channels"]).to(device)
        self._perceptual = PerceptualLoss(self.vgg_weights).to(device) if self.vgg_weights else None
        return {"model": torch.optim.Adam(model.parameters(), lr=self.lr, betas=(0.5, 0.999)),
                "critic": torch.optim.Adam(self._critic.parameters(), lr=self.lr, betas=(0.5, 0.999))}

    def _train_step(self, model, optimizers, blurry, sharp, device, precision):
        def content(outputs, target):
            if self._perceptual is not None:
                return self._perceptual(outputs[0], target)
            return self._content_loss(outputs, target)

        return _adversarial_step(self, model, self._critic, optimizers, blurry, sharp, device, precision,
                                 content_weight=self.content_weight, adversarial_weight=1.0,
                                 n_critic=self.n_critic, content=content, gp_weight=self.gp_weight)


class NAFNetDeblur(NetDeblurrer):
    __doc__ = ("NAFNet (Chen et al. 2022), a U-Net of nonlinear-activation-free blocks, as a Deblurrer.\n"
               "Its channel attention pools over at most 1.5 x the largest training crop (TLC), so a\n"
               "large photo sees the statistics the network was trained on.\n" + _COMMON_DOC)

    architecture = "nafnet"
    sizes = NAFNET_SIZES
    betas = (0.9, 0.9)

    def __init__(self, *, size="small", precision="auto", device=None, tile=1024, tile_overlap=32,
                 tile_batch=1, compile=False, epochs=10, steps_per_epoch=200, batch_size=8,
                 crop_size=128, lr=1e-3, grad_clip=1.0, loss="charbonnier", frequency_weight=0.1,
                 weight_decay=1e-4, warmup_steps=None, ema_decay=0.999, num_workers=0,
                 checkpoint_dir=None, checkpoint_dtype="float32", resume=True, warm_start=False,
                 progress=True, callback=None, seed=0):
        store_params(self, locals())

    def _config(self):
        return {**super()._config(), "pool_window": round(1.5 * max(self._crops()))}

    def _build(self, config):
        return NAFNet(width=config["width"], encoder_blocks=tuple(config["encoder_blocks"]),
                      middle_blocks=config["middle_blocks"], decoder_blocks=tuple(config["decoder_blocks"]),
                      pool_window=config["pool_window"])


class BaselineCNN(NetDeblurrer):
    __doc__ = ("A three-layer CNN in the manner of SRCNN (9-5-5 convolutions, residual): the smallest\n"
               "learned baseline, trained in minutes.\n" + _COMMON_DOC)

    architecture = "baseline"
    sizes = BASELINE_SIZES

    def __init__(self, *, size="small", precision="auto", device=None, tile=1024, tile_overlap=32,
                 tile_batch=1, compile=False, epochs=10, steps_per_epoch=200, batch_size=8,
                 crop_size=128, lr=1e-3, grad_clip=1.0, loss="charbonnier", frequency_weight=0.1,
                 weight_decay=1e-4, warmup_steps=None, ema_decay=0.999, num_workers=0,
                 checkpoint_dir=None, checkpoint_dtype="float32", resume=True, warm_start=False,
                 progress=True, callback=None, seed=0):
        store_params(self, locals())

    def _build(self, config):
        return BaselineNet(channels=tuple(config["channels"]), kernels=tuple(config["kernels"]))


def _adversarial_step(estimator, model, critic, optimizers, blurry, sharp, device, precision, *,
                      content_weight, adversarial_weight, n_critic, content, gp_weight=10.0):
    """WGAN-GP: ``n_critic`` critic updates on the same batch, then one generator update."""
    for _ in range(n_critic):
        with torch.no_grad(), autocast(device, precision):
            fake = model(blurry)[0].float()
        with autocast(device, precision):
            critic_loss = critic(fake).float().mean() - critic(sharp).float().mean()
        penalty = gradient_penalty(critic, sharp, fake)
        optimizers["critic"].zero_grad(set_to_none=True)
        (critic_loss + gp_weight * penalty).backward()
        optimizers["critic"].step()
    with autocast(device, precision):
        outputs = model(blurry)
        adversarial = -critic(outputs[0]).float().mean()
    content_loss = content(outputs, sharp)
    loss = content_weight * content_loss + adversarial_weight * adversarial
    optimizers["model"].zero_grad(set_to_none=True)
    loss.backward()
    if estimator.grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), estimator.grad_clip)
    optimizers["model"].step()
    return {"loss": float(loss.detach()), "content": float(content_loss.detach()),
            "critic": float(critic_loss.detach())}
