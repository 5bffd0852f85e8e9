"""TensorFlow: a tf.function around a GradientTape (graph mode, no XLA)."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep start-up chatter off the report

import numpy as np
import tensorflow as tf
from cases import REVERSE

from peers import Impl, PeerOptions, Step, ToNumpy


@tf.function
def _value_and_grad(x: Any, w: Any) -> Any:
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        loss = tf.reduce_sum(tf.square(tf.sin(tf.matmul(x, w))))
    dw, dx = tape.gradient(loss, [w, x])
    return loss, dw, dx


def setup(options: PeerOptions) -> dict[str, Any]:
    if options.threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(options.threads)
        tf.config.threading.set_inter_op_parallelism_threads(options.threads)
    return {
        "version": tf.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
    }


def _prepare(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
    x, w = tf.constant(x_np), tf.constant(w_np)

    def step() -> Any:
        return _value_and_grad(x, w)

    def to_numpy(result: Any) -> dict[str, Any]:
        loss, dw, dx = result
        return {"loss": float(loss), "w": dw.numpy(), "x": dx.numpy()}

    return step, to_numpy


def implementations(options: PeerOptions) -> list[Impl]:
    return [Impl("tensorflow", REVERSE, _prepare)]
