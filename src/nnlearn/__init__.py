"""nnlearn: a neural network that learns its weights from data.

The public names are the book's (*Deep Learning from Scratch*, chapter 4): ``sigmoid``,
``softmax``, ``cross_entropy_error``, ``numerical_gradient``, ``gradient_descent``,
``TwoLayerNet``, ``load_mnist``, ...
"""

__version__ = "0.1.0"

from nnlearn.base import i18n
from nnlearn.base.errors import DivergenceError, NnlearnError, quiet_start

# Ctrl-C while the command line starts: one line in the command's language, not a traceback (only for `nnlearn ...`)
quiet_start(said=lambda arguments: i18n.translate("interrupted", i18n.command_language(arguments)))
from nnlearn.checker import check
from nnlearn.common.derivatives import DerivativeResult, derivative
from nnlearn.common.functions import identity_function, relu, sigmoid, sigmoid_grad, softmax, step_function
from nnlearn.common.gradient import gradient_descent, numerical_diff, numerical_gradient
from nnlearn.common.gradient_check import gradient_check
from nnlearn.common.losses import cross_entropy_error, mean_squared_error
from nnlearn.common.multi_layer_net import MultiLayerNet
from nnlearn.common.networks import load_network
from nnlearn.common.optimizer import SGD, AdaGrad, Adam, Momentum
from nnlearn.common.simple_net import SimpleNet
from nnlearn.common.two_layer_net import TwoLayerNet
from nnlearn.datasets import DATASETS, DatasetError, load_dataset, load_fashion_mnist, load_mnist
from nnlearn.train.settings import RECIPES, TrainSettings
from nnlearn.train.trainer import Trainer
from nnlearn.train.training import train_arrays

__all__ = [
    "DivergenceError",
    "NnlearnError",
    "identity_function",
    "relu",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "step_function",
    "cross_entropy_error",
    "mean_squared_error",
    "gradient_descent",
    "numerical_diff",
    "numerical_gradient",
    "DATASETS",
    "DatasetError",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "DerivativeResult",
    "derivative",
    "SimpleNet",
    "MultiLayerNet",
    "TwoLayerNet",
    "load_network",
    "gradient_check",
    "SGD",
    "AdaGrad",
    "Adam",
    "Momentum",
    "RECIPES",
    "TrainSettings",
    "Trainer",
    "train_arrays",
    "check",
]
