# The two set-up commands named in README.md: `make demo` and `make test`.
PYTHON ?= python
# The CPU build of torch; pinned so pip never resolves a multi-GB CUDA build.
TORCH_PIN = torch==2.13.0

.PHONY: install demo test lint bench

install:
	$(PYTHON) -m pip install --quiet $(TORCH_PIN)
	$(PYTHON) -m pip install --quiet -e ".[all,dev]"

demo: install
	pydeblur demo

test: install
	$(PYTHON) -m pytest -q

lint:
	ruff check .

bench:
	$(PYTHON) benchmarks/import_time.py
	$(PYTHON) benchmarks/psf_speed.py
	$(PYTHON) benchmarks/convolve_speed.py
