"""nnlearn: a neural network that learns its weights from data.

The public names are the book's (*Deep Learning from Scratch*, chapter 4): ``sigmoid``,
``softmax``, ``cross_entropy_error``, ``numerical_gradient``, ``gradient_descent``,
``TwoLayerNet``, ``load_mnist``, ...
"""

__version__ = "0.1.0"

from nnlearn import i18n
from nnlearn.errors import DivergenceError, NnlearnError, quiet_start

# Ctrl-C while the command line starts: one line in the command's language, not a traceback (only for `nnlearn ...`)
quiet_start(said=lambda arguments: i18n.translate("interrupted", i18n.command_language(arguments)))
from nnlearn.functions import identity_function, relu, sigmoid, sigmoid_grad, softmax, step_function
from nnlearn.losses import cross_entropy_error, mean_squared_error
from nnlearn.gradient import gradient_descent, numerical_diff, numerical_gradient
from nnlearn.datasets import DATASETS, DatasetError, load_dataset, load_fashion_mnist, load_mnist
from nnlearn.derivatives import DerivativeResult, derivative
from nnlearn.simple_net import SimpleNet
from nnlearn.multi_layer_net import MultiLayerNet
from nnlearn.two_layer_net import TwoLayerNet
from nnlearn.networks import load_network
from nnlearn.gradient_check import gradient_check
from nnlearn.optimizer import SGD, AdaGrad, Adam, Momentum
from nnlearn.settings import RECIPES, TrainSettings
from nnlearn.trainer import Trainer
from nnlearn.training import train_arrays
from nnlearn.check import check

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
