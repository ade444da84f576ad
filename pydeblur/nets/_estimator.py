"""The Deblurrer shared by the networks: training loop, checkpoints, inference, weights."""

from __future__ import annotations

import io
import json
import math
import time
import typing
from pathlib import Path

import numpy as np

from ..base import BaseDeblurrer
from ..io import write_bytes_atomic
from ._blocks import deepen
from ._torch import nn, torch
from .checkpoint import CHECKPOINT_NAME, LEGACY_CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .data import PairDataset
from .ema import WeightAverage
from .fusion import fuse_for_inference, fused_convolutions_available
from .inference import restore_image
from .losses import CONTENT_LOSSES, multiscale_content_loss
from .precision import autocast, resolve_device, resolve_precision
from .weights import load_into, load_weights, resolve_weights_path, save_weights


def _distributed():
    """(rank, world_size) when torch.distributed is initialised, else (0, 1)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _quantize_int8(model_bytes: bytes, batches) -> bytes:
    """ONNX Runtime static int8 quantisation (QDQ, per-channel weights) calibrated on ``batches``."""
    import logging
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(batches)

        def get_next(self):
            batch = next(self.items, None)
            return None if batch is None else {"blurry": batch}

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # onnxruntime's quantiser logs advice on the root logger
    try:
        with tempfile.TemporaryDirectory() as folder:
            source, prepared, target = (Path(folder) / f"{n}.onnx" for n in ("fp32", "prepared", "int8"))
            source.write_bytes(model_bytes)
            quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)  # graph clean-up
            quantize_static(str(prepared), str(target), Reader(), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=["Conv", "ConvTranspose"])  # norms and gates stay fp32
            return target.read_bytes()
    finally:
        root.setLevel(level)


class _FinestOutput(nn.Module):
    """The network with only its full-resolution output (for export)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, blurry):
        return self.model(blurry)[0]


class NetDeblurrer(BaseDeblurrer):
    """Base of the network Deblurrers.

    Subclasses define ``architecture`` (a name), ``sizes`` (name -> constructor
    kwargs), ``_build(config)`` and, when their training step is not the plain
    multi-scale content loss, ``_make_optimizers`` / ``_train_step``.
    """

    architecture = ""
    sizes: typing.ClassVar[dict] = {}
    _fitted_attributes = ("model_",)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled", None)  # a compiled wrapper does not pickle; it is rebuilt on use
        state.pop("_fused", None)  # nor is the fused copy worth storing
        return state

    # -- construction -------------------------------------------------------------
    def _config(self) -> dict:
        if self.size not in self.sizes:
            raise ValueError(f"size must be one of {sorted(self.sizes)}, got {self.size!r}.")
        return {"architecture": self.architecture, "size": self.size, **self.sizes[self.size]}

    def _build(self, config: dict) -> nn.Module:
        raise NotImplementedError

    def _device(self):
        return resolve_device(self.device)

    @property
    def pad_multiple(self) -> int:
        """Input sides must be multiples of this (the stride times the pyramid's halvings)."""
        return self._multiple(self.model_)

    @classmethod
    def from_pretrained(cls, name_or_path, **params):
        """A network with shipped or saved weights: ``SRNDeblur.from_pretrained("srn-small")``.

        Parameters
        ----------
        name_or_path : str or os.PathLike
            A shipped name (see :func:`pydeblur.nets.weights.shipped_names`) or a
            ``.safetensors`` file written by :meth:`save`.
        **params
            Constructor parameters (device, precision, tile, ...).

        Raises
        ------
        FileNotFoundError
            Unknown name or missing file (nothing is downloaded).
        ValueError
            Corrupt or truncated file, or weights of another architecture.
        """
        path = resolve_weights_path(name_or_path)
        state, config, record = load_weights(path)
        if config.get("architecture") != cls.architecture:
            raise ValueError(f"{path} holds {config.get('architecture')!r} weights, not "
                             f"{cls.architecture!r}; load it with the matching class.")
        if "size" in params and params["size"] != config["size"] and not params.get("warm_start"):
            raise ValueError(f"{path} holds {config['size']!r} weights; size={params['size']!r} would "
                             "describe another network. Leave size out, or pass warm_start=True to grow "
                             "the network when fitting.")
        estimator = cls(**{"size": config["size"], **params})
        model = estimator._build(config)
        load_into(model, state, path)
        estimator.model_ = model.to(estimator._device()).eval()
        estimator.config_ = config
        estimator.history_ = record.get("history", [])
        estimator.record_ = record
        return estimator

    def save(self, path, *, record=None, overwrite: bool = False, dtype: str = "float32") -> Path:
        """Write the fitted network's weights, config and training record (safetensors).

        Written atomically; an existing ``path`` is a FileExistsError unless
        ``overwrite`` is True. ``dtype='float16'`` halves the file; loading casts the
        weights back to fp32.
        """
        from ..base import check_is_fitted

        check_is_fitted(self, ("model_",))
        full_record = {"history": getattr(self, "history_", []), **(record or {})}
        return save_weights(path, self.model_, config=self.config_, record=full_record, overwrite=overwrite,
                            dtype=dtype)

    def export_onnx(self, path, *, example_size=(256, 256), opset: int = 17, check: bool = True,
                    overwrite: bool = False, quantize=None, calibration=None):
        """Export the fitted network to ONNX (finest output; any batch, height and width).

        Parameters
        ----------
        path : str or os.PathLike
            Destination ``.onnx`` file, written atomically through a uniquely named temporary
            file in its folder (a symlink at ``path`` is replaced, never followed).
        example_size : (int, int)
            Height and width traced; multiples of :attr:`pad_multiple`.
        opset : int
            ONNX opset version.
        check : bool
            Run the exported graph with onnxruntime on a different size and compare it
            with the torch output (fp32).
        overwrite : bool
            Replace an existing file; without it an existing ``path`` is a FileExistsError.
        quantize : {None, 'int8'}
            'int8': ONNX Runtime static quantisation (QDQ format; int8 weights per output
            channel, uint8 activations whose ranges come from running ``calibration``).
        calibration : sequence of numpy.ndarray
            Float images (H, W) or (H, W, 3) in [0, 1], like those the model will see;
            needed with ``quantize='int8'`` (a few photos are enough), cropped to multiples
            of :attr:`pad_multiple`.

        Returns
        -------
        float or None
            Largest absolute difference from the torch fp32 output when checked (for an
            int8 model, the quantisation error).
        """
        import warnings

        from ..base import check_is_fitted

        check_is_fitted(self, ("model_",))
        if any(s % self.pad_multiple for s in example_size):
            raise ValueError(f"example_size {example_size} must be multiples of {self.pad_multiple}.")
        model = _FinestOutput(self.model_).to("cpu").eval()
        if quantize not in (None, "int8"):
            raise ValueError(f"quantize must be None or 'int8', got {quantize!r}.")
        if (quantize is None) != (calibration is None):
            raise ValueError("quantize='int8' needs calibration images (and calibration is only used "
                             "with quantize='int8'); pass a few photos like those the model will see.")
        batches = self._calibration_batches(calibration) if quantize else None
        if Path(path).exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
        example = torch.rand(1, 3, *example_size)
        axes = {0: "batch", 2: "height", 3: "width"}
        buffer = io.BytesIO()
        with warnings.catch_warnings():  # the exporter's own deprecation and tracer notices
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=opset,
                              input_names=["blurry"], output_names=["sharp"],
                              dynamic_axes={"blurry": axes, "sharp": axes})
        data = buffer.getvalue() if quantize is None else _quantize_int8(buffer.getvalue(), batches)
        path = write_bytes_atomic(path, data, overwrite=overwrite)
        self.model_.to(self._device())
        if not check:
            return None
        import onnxruntime

        probe = (torch.from_numpy(batches[0]) if quantize else
                 torch.rand(1, 3, example_size[0] + self.pad_multiple, example_size[1] * 2))
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        exported = session.run(None, {"blurry": probe.numpy()})[0]
        with torch.inference_mode():
            reference = model(probe).numpy()
        self.model_.to(self._device())
        return float(np.abs(exported - reference).max())

    def _calibration_batches(self, calibration) -> list:
        """Calibration images as (1, 3, h, w) float32 arrays cropped to multiples of the stride."""
        from .._validation import check_image

        images = [calibration] if isinstance(calibration, np.ndarray) else list(calibration)
        if not images:
            raise ValueError("calibration must hold at least one image.")
        batches = []
        for index, image in enumerate(images):
            image = check_image(image, name=f"calibration[{index}]")
            rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
            if rgb.shape[2] != 3:
                raise ValueError(f"calibration[{index}] has {rgb.shape[2]} channels; give grey or RGB "
                                 "images.")
            m = self.pad_multiple
            h, w = rgb.shape[0] // m * m, rgb.shape[1] // m * m
            if not h or not w:
                raise ValueError(f"calibration[{index}] ({rgb.shape[0]}x{rgb.shape[1]}) is smaller than the "
                                 f"network's stride {m}.")
            batches.append(np.ascontiguousarray(rgb[:h, :w].transpose(2, 0, 1)[None], dtype=np.float32))
        return batches

    # -- inference ----------------------------------------------------------------
    def _inference_model(self, device, precision) -> nn.Module:
        """The network as inference runs it: its ``torch.compile`` wrapper when asked for,
        else on a CPU a copy with fused convolutions (:mod:`pydeblur.nets.fusion`), else
        the network itself. The wrapper is made once per network (it reads the live weights);
        the copy holds its own, so it is remade whenever a weight changes.
        """
        if not isinstance(self.compile, bool):
            raise TypeError(f"compile must be True or False, got {self.compile!r}.")
        if self.compile:
            cached = getattr(self, "_compiled", None)
            if cached is None or cached[0] is not self.model_:
                self._compiled = (self.model_, torch.compile(self.model_))
            return self._compiled[1]
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        if not fused_convolutions_available(device, dtype):
            return self.model_
        key = (dtype, [(p.data_ptr(), p._version) for p in self.model_.parameters()])
        cached = getattr(self, "_fused", None)
        if cached is None or cached[0] is not self.model_ or cached[1] != key:
            self._fused = (self.model_, key, fuse_for_inference(self.model_, dtype))
        return self._fused[2]

    def _check_inference_params(self) -> None:
        from .._validation import check_number

        overlap = check_number(self.tile_overlap, name="tile_overlap", low=0, integer=True)
        if self.tile is not None:
            check_number(self.tile, name="tile (None: no tiling)", low=2 * overlap, integer=True)
        check_number(self.tile_batch, name="tile_batch", low=1, integer=True)

    def _restore_one(self, image):
        self._check_inference_params()
        device = self._device()
        precision = resolve_precision(self.precision, device)
        return restore_image(self._inference_model(device, precision), image, multiple=self.pad_multiple,
                             device=device, precision=precision, tile=self.tile, overlap=self.tile_overlap,
                             batch_size=self.tile_batch, channels_last=True)

    # -- training -----------------------------------------------------------------
    #: AdamW's betas; NAFNet trains with (0.9, 0.9) as in its paper.
    betas = (0.9, 0.999)

    def _make_optimizers(self, model):
        return {"model": torch.optim.AdamW(model.parameters(), lr=self.lr, betas=self.betas,
                                           weight_decay=self.weight_decay)}

    def _content_loss(self, outputs, sharp):
        """The training loss on every scale: ``loss`` plus ``frequency_weight`` x the spectrum's L1."""
        return multiscale_content_loss(outputs, sharp, kind=self.loss, frequency_weight=self.frequency_weight)

    def _train_step(self, model, optimizers, blurry, sharp, device, precision) -> dict:
        """One optimisation step of the multi-scale content loss; returns the losses."""
        with autocast(device, precision):
            outputs = model(blurry)
        loss = self._content_loss(outputs, sharp)
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
        optimizers["model"].step()
        return {"loss": float(loss.detach())}

    def fit(self, blurry, sharp=None):
        """Train on in-memory pairs (random crops of ``crop_size``); returns self.

        A network learns from pairs only: without ``sharp`` this is a ValueError.
        """
        if sharp is None:
            raise ValueError(
                f"{type(self).__name__} trains on pairs: pass sharp images, fit(blurry, sharp), or train "
                "on a folder with fit_dataset(...) / pydeblur train. For shipped weights use "
                f"{type(self).__name__}.from_pretrained(name) and restore without fitting."
            )
        train = PairDataset((blurry, sharp), crop=self._crops()[0],
                            length=self.steps_per_epoch * self.batch_size, seed=self.seed)
        return self.fit_dataset(train)

    def _crops(self) -> list[int]:
        """``crop_size`` as a list: one side, or sides grown over equal parts of the epochs."""
        from .._validation import check_number

        crops = [self.crop_size] if isinstance(self.crop_size, (int, np.integer)) else list(self.crop_size)
        if not crops:
            raise ValueError("crop_size must be a side or a non-empty sequence of sides, got [].")
        return [check_number(c, name="crop_size", low=1, integer=True) for c in crops]

    def _check_training_params(self) -> None:
        from .._validation import check_choice, check_number

        check_choice(self.loss, tuple(CONTENT_LOSSES), name="loss")
        check_number(self.frequency_weight, name="frequency_weight", low=0)
        check_number(self.weight_decay, name="weight_decay", low=0)
        if self.warmup_steps is not None:
            check_number(self.warmup_steps, name="warmup_steps (None: 2 % of the steps)", low=0, integer=True)
        check_number(self.ema_decay, name="ema_decay (0: no average)", low=0, high=1, high_inclusive=False)
        check_choice(self.checkpoint_dtype, ("float32", "float16"), name="checkpoint_dtype")

    def _check_warm_start(self, config) -> bool:
        """Whether warm-starting a network of ``config`` grows the current one (else: same config).

        Raises ValueError when there are no current weights or ``config`` does more than add
        ResBlocks to them.
        """
        if getattr(self, "model_", None) is None:
            raise ValueError(f"warm_start=True starts from the current weights, but this "
                             f"{type(self).__name__} has none yet: load them with from_pretrained(...) "
                             "or fit once first.")
        loaded, wanted = (json.loads(json.dumps(c)) for c in (self.config_, config))  # tuples as lists
        depthless = {"size": None, "n_resblocks": None}
        fewer_blocks = loaded.get("n_resblocks", 0) > wanted.get("n_resblocks", 0)
        if {**loaded, **depthless} != {**wanted, **depthless} or fewer_blocks:
            raise ValueError(f"warm_start=True: the current weights are for {self.config_}, but the "
                             f"parameters now describe {config}; keep the size the weights were made with, "
                             "or pick one that only adds ResBlocks.")
        return loaded != wanted

    def _copy_current_weights(self, model, config) -> None:
        if self._check_warm_start(config):
            deepen(self.model_, model)
        else:
            model.load_state_dict(self.model_.state_dict())

    def fit_dataset(self, train, val=None):
        """Train on a torch Dataset of (blurry, sharp) tensors; returns self.

        ``epochs`` x ``steps_per_epoch`` steps of AdamW with a linear warm-up, a cosine
        learning-rate decay and gradient clipping; the weights kept are their exponential
        moving average when ``ema_decay`` > 0; validation PSNR (of the average) after
        every epoch when ``val`` is given; a checkpoint after every epoch in
        ``checkpoint_dir``, from which training resumes when ``resume`` is set. A dataset
        with ``set_crop`` gets the crop side of each epoch from ``crop_size`` (a sequence
        grows the patches over equal parts of the epochs). Under ``torchrun`` (torch.distributed
        initialised) the model is wrapped in DistributedDataParallel and the data is
        sharded; rank 0 writes the checkpoints.
        """
        from tqdm.auto import tqdm

        device = self._device()
        precision = resolve_precision(self.precision, device)
        self._check_training_params()
        crops = self._crops()
        if len(crops) > 1 and not hasattr(train, "set_crop"):
            raise ValueError(f"crop_size={self.crop_size!r} grows the crops, but {type(train).__name__} has "
                             "no set_crop(side); give one side, or a dataset that can change its crop.")
        rank, world = _distributed()
        torch.manual_seed(self.seed)
        config = self._config()
        model = self._build(config)
        if self.warm_start:
            self._copy_current_weights(model, config)
        model = model.to(device).to(memory_format=torch.channels_last)
        optimizers = self._make_optimizers(model)
        total_steps = self.epochs * self.steps_per_epoch
        warmup = round(0.02 * total_steps) if self.warmup_steps is None else self.warmup_steps

        def schedule(step):  # linear warm-up to lr, then a cosine down to lr / 10
            if step < warmup:
                return (step + 1) / warmup
            progress = min(step - warmup, total_steps - warmup) / max(1, total_steps - warmup)
            return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))

        schedulers = {name: torch.optim.lr_scheduler.LambdaLR(opt, schedule)
                      for name, opt in optimizers.items()}
        average = WeightAverage(model, self.ema_decay) if self.ema_decay else None
        history, start_epoch = [], 0
        checkpoint = Path(self.checkpoint_dir) / CHECKPOINT_NAME if self.checkpoint_dir else None
        if checkpoint is not None and self.resume and (checkpoint.parent / LEGACY_CHECKPOINT_NAME).exists():
            raise ValueError(
                f"{checkpoint.parent / LEGACY_CHECKPOINT_NAME} is a pickled checkpoint, which pydeblur no "
                "longer reads (unpickling a file can run any code in it). Delete it, or use another "
                "checkpoint_dir; checkpoints are now written as " + CHECKPOINT_NAME + ".")
        if checkpoint is not None and self.resume and checkpoint.exists():
            state = load_checkpoint(checkpoint, device=device)
            if state["config"] != config:
                raise ValueError(f"{checkpoint} was written for {state['config']}, not {config}; "
                                 "use another checkpoint_dir or resume=False.")
            model.load_state_dict(state["model"])
            if average is not None:
                if "average" in state:
                    average.load_state_dict(state["average"])
                else:  # written without an average: start it from the weights
                    average = WeightAverage(model, self.ema_decay)
            for name, opt in optimizers.items():
                opt.load_state_dict(state["optimizers"][name])
                schedulers[name].load_state_dict(state["schedulers"][name])
            history, start_epoch = state["history"], state["epoch"]
        train_model = model
        if world > 1:
            train_model = torch.nn.parallel.DistributedDataParallel(model)
        sampler = (torch.utils.data.distributed.DistributedSampler(train, shuffle=True, seed=self.seed)
                   if world > 1 else None)
        loader = torch.utils.data.DataLoader(train, batch_size=self.batch_size, shuffle=sampler is None,
                                             sampler=sampler, num_workers=self.num_workers, drop_last=True)
        for epoch in range(start_epoch, self.epochs):
            if hasattr(train, "set_epoch"):
                train.set_epoch(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
            if hasattr(train, "set_crop"):
                train.set_crop(crops[min(len(crops) - 1, epoch * len(crops) // self.epochs)])
            train_model.train()
            start, losses, steps = time.perf_counter(), [], 0
            bar = tqdm(total=self.steps_per_epoch, desc=f"epoch {epoch + 1}/{self.epochs}",
                       disable=not self.progress or rank != 0, leave=False)
            while steps < self.steps_per_epoch:
                for blurry, sharp in loader:
                    blurry = blurry.to(device).contiguous(memory_format=torch.channels_last)
                    sharp = sharp.to(device)
                    step_losses = self._train_step(train_model, optimizers, blurry, sharp, device, precision)
                    for scheduler in schedulers.values():
                        scheduler.step()
                    if average is not None:
                        average.update(model)
                    losses.append(step_losses)
                    steps += 1
                    bar.update(1)
                    if steps >= self.steps_per_epoch:
                        break
            bar.close()
            entry = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - start, 2),
                     "lr": optimizers[next(iter(optimizers))].param_groups[0]["lr"],
                     **{k: float(np.mean([d[k] for d in losses])) for k in losses[0]}}
            if len(crops) > 1:
                entry["crop"] = train.crop
            kept = model if average is None else average.model
            if val is not None and rank == 0:
                entry["val_psnr"] = self._validate(kept, val, device, precision)
            history.append(entry)
            if self.callback is not None and rank == 0:
                self.callback(entry)
            if checkpoint is not None and rank == 0:
                state = {"model": model.state_dict(), "config": config, "epoch": epoch + 1,
                         "history": history, "optimizers": {n: o.state_dict() for n, o in optimizers.items()},
                         "schedulers": {n: s.state_dict() for n, s in schedulers.items()}}
                if average is not None:
                    state["average"] = average.state_dict()
                save_checkpoint(checkpoint, state, dtype=self.checkpoint_dtype)
        self.model_ = (model if average is None else average.model).eval()
        self.config_ = config
        self.history_ = history
        return self

    def _validate(self, model, val, device, precision) -> float:
        """Mean PSNR of the model on a validation dataset of (blurry, sharp) tensors."""
        from ..metrics import psnr

        values = []
        model.eval()
        with torch.inference_mode():
            for i in range(len(val)):
                blurry, sharp = val[i]
                out = restore_image(model, blurry.numpy().transpose(1, 2, 0), multiple=self._multiple(model),
                                    device=device, precision=precision, tile=None, overlap=0)
                values.append(psnr(np.clip(out, 0, 1), sharp.numpy().transpose(1, 2, 0)))
        model.train()
        return float(np.mean(values))

    @staticmethod
    def _multiple(model) -> int:
        return model.stride * 2 ** (getattr(model, "n_scales", 1) - 1)
