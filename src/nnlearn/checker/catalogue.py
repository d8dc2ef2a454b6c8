"""The catalogue of diagnoses: what a failed probe most likely means, why, and the smallest fix.

Each entry has a stable ``id`` (``--json``, docs/check.md), a default severity (``fail``: the function
is wrong; ``warn``: a choice that costs precision or surprises a caller), the book's section, and a
title, explanation and fix, translated through gettext. A finding may carry its own severity and
section. :data:`DETAILS` holds the phrases a finding adds about what was seen ("your step h is about 1e-50").
"""

from __future__ import annotations

from dataclasses import dataclass

from nnlearn.base.i18n import N_

FAIL, WARN = "fail", "warn"


class Code(str):
    """A fix that is only code: the same in every language, so not in the gettext catalogues."""


@dataclass(frozen=True)
class Entry:
    """One diagnosis. ``title``, ``explanation`` and ``fix`` are English msgids."""

    id: str
    severity: str
    section: str
    title: str
    explanation: str
    fix: str


_ENTRIES = (
    # -- losses ----------------------------------------------------------------------------------
    Entry(
        "swapped-arguments",
        FAIL,
        "4.2.2",
        N_("the arguments are swapped"),
        N_(
            "The loss takes the network's output y first and the target t second: cross_entropy_error(y, t). "
            "Swapped, the log is taken of the one-hot target, whose zeros give log(1e-7) = -16.1, so the "
            "loss is large and no longer measures the prediction."
        ),
        N_("Output first, target second: def cross_entropy_error(y, t), called as cross_entropy_error(y, t)."),
    ),
    Entry(
        "log-of-zero",
        FAIL,
        "4.2.2",
        N_("log(0) gives -inf"),
        N_(
            "np.log(0) is -inf and 0 * -inf is nan, so an output holding an exact 0 makes the loss inf or "
            "nan. The book adds a tiny delta inside the log for that reason."
        ),
        N_("Add delta = 1e-7 inside the log: -np.sum(t * np.log(y + delta))."),
    ),
    Entry(
        "sum-not-mean",
        FAIL,
        "4.2.4",
        N_("a batch is summed, not averaged"),
        N_(
            "For a mini-batch the book divides the summed loss by the batch size, so that the loss (and the "
            "learning rate that suits it) does not depend on how many samples a batch holds. Yours returns "
            "the sum: N times the book's value for N samples."
        ),
        N_(
            "Divide by the batch size: return -np.sum(t * np.log(y + 1e-7)) / y.shape[0], after reshaping a "
            "single sample to one row."
        ),
    ),
    Entry(
        "no-reshape",
        FAIL,
        "4.2.4",
        N_("one sample is not reshaped to a batch of one"),
        N_(
            "The batch version divides by y.shape[0], the number of rows. For one sample (a 1-D y) that is "
            "the number of classes, so its loss comes out 10 times too small, unless y and t are first "
            "reshaped to one row each."
        ),
        Code("if y.ndim == 1: t = t.reshape(1, t.size); y = y.reshape(1, y.size)"),
    ),
    Entry(
        "labels-vs-one-hot",
        FAIL,
        "4.2.4",
        N_("labels and one-hot targets are mixed up"),
        N_(
            "A target is either one-hot rows (t = [0, 0, 1, ...]) or class labels (t = 2, or one label per "
            "row). For one of the two forms your function returns a wrong number without an error. The "
            "book's common/functions.py turns one-hot rows into labels with t.argmax(axis=1) and so handles "
            "both. A warning (not a failure) when the function handles exactly one form, as the book's first "
            "version does: then pass only that form."
        ),
        N_(
            "if t.size == y.size: t = t.argmax(axis=1), then "
            "return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size."
        ),
    ),
    Entry(
        "unusual-delta",
        WARN,
        "4.2.2",
        N_("a different delta inside the log"),
        N_(
            "When the correct class gets probability 0 the loss is -log(delta): 16.118 with the book's "
            "delta = 1e-7. Your value differs there, so your delta (or clipping) differs; only such extreme "
            "outputs show it."
        ),
        Code("np.log(y + 1e-7)"),
    ),
    Entry(
        "missing-half",
        FAIL,
        "4.2.1",
        N_("the factor 0.5 is missing"),
        N_(
            "The book's mean squared error is 0.5 * np.sum((y - t)**2); the 0.5 makes its derivative simply "
            "y - t. Yours is twice the book's value."
        ),
        Code("return 0.5 * np.sum((y - t)**2)"),
    ),
    Entry(
        "mean-of-squares",
        FAIL,
        "4.2.1",
        N_("np.mean over the outputs"),
        N_(
            "np.mean((y - t)**2) divides by the number of outputs (10 for MNIST); the book's error is "
            "0.5 * np.sum((y - t)**2), a sum over the outputs."
        ),
        Code("return 0.5 * np.sum((y - t)**2)"),
    ),
    # -- activations -----------------------------------------------------------------------------
    Entry(
        "softmax-overflow",
        FAIL,
        "3.5.2",
        N_("softmax overflows on large inputs"),
        N_(
            "np.exp(1010) is inf, and inf / inf is nan. Subtracting the largest input first changes nothing "
            "mathematically but keeps every exponent at or below 0."
        ),
        Code("c = np.max(a); exp_a = np.exp(a - c); return exp_a / np.sum(exp_a)"),
    ),
    Entry(
        "softmax-axis",
        FAIL,
        "3.5",
        N_("a batch is normalised along the wrong axis"),
        N_(
            "For a batch (one row per sample) each row is normalised on its own: its own maximum "
            "subtracted, its exponentials divided by its own sum, so that every row sums to 1. Without "
            "keepdims=True the row maxima and sums line up with the columns instead; axis=0 normalises "
            "columns; a whole-array sum mixes the samples."
        ),
        Code("x = x - np.max(x, axis=-1, keepdims=True); return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)"),
    ),
    Entry(
        "softmax-single-sample",
        WARN,
        "3.5.1",
        N_("softmax of one sample, not of a batch"),
        N_(
            "This is the softmax of section 3.5: right for one sample, but a batch is normalised as a whole "
            "(all its rows together sum to 1). The two-layer network of 4.5 applies softmax to a batch; the "
            "book's common/functions.py holds the batch version."
        ),
        Code("x = x - np.max(x, axis=-1, keepdims=True); return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)"),
    ),
    Entry(
        "exp-sign",
        FAIL,
        "3.2.4",
        N_("exp(x) where exp(-x) belongs"),
        N_("The sigmoid is 1 / (1 + exp(-x)): it rises from 0 to 1. With exp(x) it falls, and gives sigmoid(-x)."),
        Code("return 1 / (1 + np.exp(-x))"),
    ),
    Entry(
        "sigmoid-overflow",
        FAIL,
        "3.2.4",
        N_("nan for a large input"),
        N_(
            "For a large |x| np.exp overflows to inf, and an expression such as np.exp(x) / (1 + np.exp(x)) "
            "then gives inf / inf = nan. The book's 1 / (1 + np.exp(-x)) gives 0 or 1 there (with only a "
            "warning)."
        ),
        Code("return 1 / (1 + np.exp(-x))"),
    ),
    Entry(
        "math-not-numpy",
        FAIL,
        "3.2.4",
        N_("math works on one number only"),
        N_(
            "math.exp (like math.log) takes one number, but the network passes whole arrays. NumPy's np.exp "
            "works element by element on arrays of any shape."
        ),
        N_("import numpy as np, and write np.exp, np.log instead of math.exp, math.log."),
    ),
    Entry(
        "operator-precedence",
        FAIL,
        "4.3.1",
        N_("operator precedence"),
        N_(
            "Python multiplies and divides from left to right, and before it adds: a / 2*h is (a / 2) * h, "
            "and 1 / 1 + np.exp(-x) is 1 + np.exp(-x). Parentheses say what is meant."
        ),
        N_("(f(x + h) - f(x - h)) / (2 * h), and 1 / (1 + np.exp(-x))."),
    ),
    # -- derivatives -----------------------------------------------------------------------------
    Entry(
        "h-too-small",
        FAIL,
        "4.3.1",
        N_("the step h is too small"),
        N_(
            "With a step like h = 1e-50, x + h rounds back to x in floating point (rounding error), so the "
            "difference is 0 or noise. The book uses h = 1e-4: small enough for a good approximation, large "
            "enough to survive rounding."
        ),
        Code("h = 1e-4"),
    ),
    Entry(
        "h-too-large",
        FAIL,
        "4.3.1",
        N_("the step h is too large"),
        N_(
            "A difference over a large step is the slope of a secant, not of the tangent: its error grows "
            "with h squared (with h for a one-sided difference). The book uses h = 1e-4."
        ),
        Code("h = 1e-4"),
    ),
    Entry(
        "unusual-h",
        WARN,
        "4.3.1",
        N_("an unusual step h"),
        N_(
            "This step still gives usable derivatives, but less precise ones than the book's h = 1e-4: a "
            "larger h adds truncation error, a smaller one rounding error."
        ),
        Code("h = 1e-4"),
    ),
    Entry(
        "forward-difference",
        FAIL,
        "4.3.1",
        N_("a one-sided difference"),
        N_(
            "(f(x + h) - f(x)) / h is the slope of a secant on one side of x, and its error shrinks only like "
            "h. The book uses the central difference (f(x + h) - f(x - h)) / (2 * h), whose error shrinks "
            "like h squared."
        ),
        Code("return (f(x + h) - f(x - h)) / (2 * h)"),
    ),
    Entry(
        "integer-input",
        WARN,
        "4.4",
        N_("an integer array gives a wrong gradient"),
        N_(
            "x + h written back into an integer array is truncated (3.0001 becomes 3, 2.9999 becomes 2), so "
            "the gradient comes out wrong without any error -- as with the book's own code (official "
            "repository, issue #51). It matters only when you pass integers, such as np.array([3, 4])."
        ),
        N_(
            "Pass floats, np.array([3.0, 4.0]); or refuse integers at the top of the function: "
            "if x.dtype.kind != 'f': raise TypeError('x must hold floats'). (Converting with astype would "
            "perturb a copy, see copy-not-in-place.)"
        ),
    ),
    Entry(
        "x-not-restored",
        FAIL,
        "4.4",
        N_("x is not restored"),
        N_(
            "Each element is moved to x + h and x - h in place. Without putting the old value back, the "
            "next partial derivatives are taken at a shifted point and the caller's array -- the network's "
            "weights -- is left changed."
        ),
        N_("After computing both values: x[idx] = tmp_val"),
    ),
    Entry(
        "one-dimensional-only",
        FAIL,
        "4.4",
        N_("works only for 1-D arrays"),
        N_(
            "The network's weights are 2-D arrays. Indexing a 2-D array with one number gives a whole row, so "
            "a loop over range(x.size) with x[idx] fails or moves whole rows. The book's common/gradient.py "
            "visits every element with np.nditer and it.multi_index."
        ),
        N_("it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite']), and idx = it.multi_index in the loop."),
    ),
    Entry(
        "copy-not-in-place",
        FAIL,
        "4.4.2",
        N_("a copy is perturbed, not the array itself"),
        N_(
            "In f = lambda W: net.loss(x, t) the argument W is never used: the loss reads the network's own "
            "weights. That works only because numerical_gradient changes the very array it is given, in "
            "place, and that array is the network's weights (net.W). Perturbing a copy (x.copy(), astype, "
            "np.array(x)) leaves the weights as they are, f never changes, and the gradient is 0 (official "
            "repository, issue #61)."
        ),
        N_(
            "Perturb the array you are given: tmp_val = x[idx]; x[idx] = tmp_val + h; ...; x[idx] = tmp_val. "
            "Pass net.W itself, not a copy."
        ),
    ),
    Entry(
        "float32-precision",
        WARN,
        "4.4",
        N_("float32 costs precision"),
        N_(
            "In float32 a step of h = 1e-4 is only a few hundred units in the last place, so a numerical "
            "gradient carries a relative error near 1e-3 (about 1e-10 in float64). Good enough to learn "
            "with, too coarse to check a gradient."
        ),
        N_(
            "Compute numerical gradients in float64: keep the weights in float64, or "
            "grad = np.zeros(x.shape, dtype=np.float64)."
        ),
    ),
    Entry(
        "lr-sign",
        FAIL,
        "4.4.1",
        N_("the step goes uphill"),
        N_(
            "The gradient points where f increases fastest; gradient descent moves against it, "
            "x = x - lr * grad. Adding it climbs away from the minimum."
        ),
        Code("x -= lr * grad"),
    ),
    Entry(
        "step-count",
        FAIL,
        "4.4.1",
        N_("the wrong number of steps"),
        N_(
            "gradient_descent(f, init_x, lr, step_num) takes exactly step_num steps; yours takes another "
            "number (range(step_num - 1), range(1, step_num), or a loop that ignores step_num)."
        ),
        Code("for i in range(step_num): ..."),
    ),
    Entry(
        "init-x-mutated",
        WARN,
        "4.4.1",
        N_("init_x is changed"),
        N_(
            "x = init_x does not copy the array, so x -= lr * grad also changes the caller's init_x, as the "
            "book's own code does. A second call with the same init_x then starts where the first ended."
        ),
        Code("x = init_x.copy()"),
    ),
    # -- networks --------------------------------------------------------------------------------
    Entry(
        "init-not-scaled",
        FAIL,
        "4.5.1",
        N_("weights not scaled by weight_init_std"),
        N_(
            "The book draws the weights from a Gaussian and scales them by weight_init_std (0.01). Without "
            "it their standard deviation is 1, the sigmoids saturate and learning stalls."
        ),
        Code("self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)"),
    ),
    Entry(
        "init-std-ignored",
        WARN,
        "4.5.1",
        N_("weight_init_std is not followed"),
        N_(
            "The spread of the weights does not follow the weight_init_std passed in; the book's "
            "TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01) draws them with that "
            "standard deviation."
        ),
        Code("self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)"),
    ),
    Entry(
        "no-softmax",
        FAIL,
        "4.5.1",
        N_("predict does not end with softmax"),
        N_(
            "The book's predict returns probabilities: the scores of the last layer go through softmax. "
            "Without it the rows do not sum to 1 and the cross-entropy error is meaningless."
        ),
        Code("a2 = np.dot(z1, W2) + b2; return softmax(a2)"),
    ),
    Entry(
        "accuracy-one-hot",
        FAIL,
        "4.5.1",
        N_("accuracy compares with one-hot rows"),
        N_(
            "With one-hot targets (load_mnist(one_hot_label=True), as the book trains) each row of t must "
            "be turned into its label with np.argmax(t, axis=1) before it is compared with the predicted "
            "labels."
        ),
        Code("y = np.argmax(y, axis=1); t = np.argmax(t, axis=1); return np.sum(y == t) / float(x.shape[0])"),
    ),
    Entry(
        "backprop-mismatch",
        FAIL,
        "5.7.3",
        N_("backpropagation disagrees with the numerical gradient"),
        N_(
            "gradient(x, t) must give the numbers of numerical_gradient(x, t), parameter by parameter (the "
            "gradient check of 5.7.3). Look at the backward pass of the parameters named: sigmoid_grad, the "
            "transposes, the division by batch_num."
        ),
        Code(
            "dy = (y - t) / batch_num; grads['W2'] = np.dot(z1.T, dy); grads['b2'] = np.sum(dy, axis=0); "
            "dz1 = sigmoid_grad(a1) * np.dot(dy, W2.T); grads['W1'] = np.dot(x.T, dz1); "
            "grads['b1'] = np.sum(dz1, axis=0)"
        ),
    ),
    Entry(
        "book-interface",
        FAIL,
        "4.5.1",
        N_("not the book's interface"),
        N_(
            "The chapter's code reads a network's weights in a dict, self.params, with the keys W1, b1, W2, "
            "b2 and the shapes the book gives them (simpleNet: the attribute W, shape (2, 3)); numerical_gradient "
            "and gradient return a dict with the same keys."
        ),
        Code(
            "self.params = {}; self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size); "
            "self.params['b1'] = np.zeros(hidden_size); ..."
        ),
    ),
    Entry(
        "extra-activation",
        FAIL,
        "4.5.1",
        N_("an activation too many on the output"),
        N_(
            "The last layer's scores go through softmax once, and only softmax: sigmoid before it squeezes "
            "the scores into (0, 1), so the probabilities come out nearly equal; softmax applied a second "
            "time (in predict and again in loss) flattens them the same way. The loss then barely moves "
            "and learning crawls."
        ),
        Code("a2 = np.dot(z1, W2) + b2; y = softmax(a2)"),
    ),
    Entry(
        "bias-not-added",
        FAIL,
        "4.5.1",
        N_("a bias is never added"),
        N_(
            "Each layer computes np.dot(x, W) + b. Without + b the output does not change with b at all, "
            "so the gradient of b is 0 and b never learns."
        ),
        Code("a1 = np.dot(x, W1) + b1; a2 = np.dot(z1, W2) + b2"),
    ),
    Entry(
        "shared-params",
        FAIL,
        "4.5.1",
        N_("every network shares one set of weights"),
        N_(
            "params = {} written in the class body, outside __init__, is one dict shared by every "
            "instance: building a second network overwrites the first one's weights (and its sizes)."
        ),
        N_("Create the dict inside __init__: self.params = {}."),
    ),
    Entry(
        "accuracy-self-compare",
        FAIL,
        "4.5.1",
        N_("accuracy compares a value with itself"),
        N_(
            "Comparing t with t (or y with y) is always true, so the accuracy is always 1.0 whatever the "
            "network predicts. The predicted labels, np.argmax(y, axis=1), are compared with the true "
            "labels, np.argmax(t, axis=1)."
        ),
        Code(
            "y = np.argmax(self.predict(x), axis=1); t = np.argmax(t, axis=1); return np.sum(y == t) / float(x.shape[0])"
        ),
    ),
    Entry(
        "grad-wrong-key",
        FAIL,
        "4.5.1",
        N_("a gradient stored under the wrong key"),
        N_(
            "Each parameter's gradient goes under its own key: grads['W1'] for W1, grads['b1'] for b1, and "
            "so on. A copied line that keeps the old key (grads['b2'] twice) overwrites one gradient and "
            "leaves another missing, so that parameter is never updated."
        ),
        Code("grads['W1'] = ...; grads['b1'] = ...; grads['W2'] = ...; grads['b2'] = ..."),
    ),
    Entry(
        "renamed-parameter",
        FAIL,
        "",
        N_("a name the function does not define"),
        N_(
            "The body uses a name that is neither a parameter nor defined before: a parameter renamed in "
            "the def line but not in the body (def numerical_gradient(g, x) that still calls f), or a "
            "typo."
        ),
        N_("Use one name in both places: the parameter's name in the body, or the book's name in the def line."),
    ),
    Entry(
        "python2-name",
        FAIL,
        "",
        N_("a Python 2 name"),
        N_(
            "xrange, raw_input, unicode and long were removed in Python 3 (range, input, str and int took "
            "their place), so code copied from a Python 2 text stops there with a NameError."
        ),
        N_("Write range for xrange, input for raw_input, str for unicode, int for long."),
    ),
    # -- any function ----------------------------------------------------------------------------
    Entry(
        "input-modified",
        FAIL,
        "",
        N_("the input array is changed"),
        N_(
            "The function writes into the array it is given (x -= np.max(x), y += delta, ...), so the "
            "caller's data -- a batch, a network's output -- is silently different afterwards."
        ),
        N_("Make a new array: x = x - np.max(x) instead of x -= np.max(x)."),
    ),
    Entry(
        "missing-return",
        FAIL,
        "",
        N_("returns None"),
        N_("The function computes its result but does not return it (no return statement), so the caller gets None."),
        N_("End the function with return and the result."),
    ),
    Entry(
        "signature",
        FAIL,
        "",
        N_("other arguments than the book's"),
        N_(
            "The check calls your code the way the book does, with the book's arguments in the book's order; "
            "yours takes other arguments."
        ),
        N_("Use the book's parameters, in the book's order."),
    ),
    Entry(
        "raised-exception",
        FAIL,
        "",
        N_("raised an exception"),
        N_("Your code raised an exception on an input the book's code accepts; the line shown is where, in your file."),
        N_("Run that line with the input shown and look at each value's shape and type."),
    ),
    Entry(
        "timeout",
        FAIL,
        "",
        N_("did not return"),
        N_(
            "The call did not return within the time limit: a loop that never ends (a condition that never "
            "turns false, a step that changes nothing) or a far larger computation than needed."
        ),
        N_(
            "Check the loop's condition and that every pass brings it closer to the end; raise the limit "
            "with --timeout only for honest long work."
        ),
    ),
    Entry(
        "crashed",
        FAIL,
        "",
        N_("the process ended"),
        N_(
            "The process running your code ended during this call: it ran out of memory or CPU time (the "
            "limits protect your computer), or your code ended it (os._exit, os.kill)."
        ),
        N_("Look for an array far larger than needed, or a call that ends the process."),
    ),
    Entry(
        "wrong-shape",
        FAIL,
        "",
        N_("a result of the wrong shape"),
        N_(
            "The result has another shape than the book's: an axis missing or added, a transposed matrix, "
            "or a sum over the wrong axis."
        ),
        N_("Print the shapes (x.shape) after each step and compare them with the book's."),
    ),
    Entry(
        "wrong-result",
        FAIL,
        "",
        N_("a wrong result"),
        N_("The result differs from the book's for the input shown, and no mistake of the catalogue explains it."),
        N_("Compare your code with the book's section, step by step, on the input shown."),
    ),
)

#: The catalogue, by id.
CATALOGUE: dict[str, Entry] = {entry.id: entry for entry in _ENTRIES}

#: What a finding can add about what was seen, by key; ``{fields}`` are filled in when shown.
DETAILS = {
    "h": N_("your step h is about {h}"),
    "one-hot-only": N_("accepts one-hot targets only: labels give a wrong number or an error"),
    "labels-only": N_("accepts labels only: one-hot rows give a wrong number or an error"),
    "disagree": N_("differs for {names}"),
    "factor": N_("{factor} times the expected value"),
    "steps": N_("took {steps} steps instead of {expected}"),
    "std": N_("the standard deviation of W1 is {std}, for weight_init_std={expected}"),
    "keys": N_("the keys are {got}, not {expected}"),
    "shape": N_("{name} has shape {got}, not {expected}"),
    "zeros": N_("every element of the gradient is 0"),
    "seconds": N_("did not return within {seconds} s"),
    "book-call": N_("the book calls it as {call}"),
    "signal": N_("the process was ended by {signal}"),
    "exit-code": N_("the process ended with exit code {code}"),
    "forged": N_(
        "your code wrote to the check's own channel, an answer the check did not ask for; the process was ended"
    ),
    "dtype": N_("the result is {dtype} for a float64 input"),
    "params-dtype": N_("the weights are {dtype}"),
    "axis0": N_("each column sums to 1, not each row"),
    "whole-batch": N_("the whole batch sums to 1, not each row"),
    "nan": N_("the result holds nan or inf"),
    "single-sample-cee": N_(
        "the book's version of 4.2.2, for one sample: a mini-batch gets the sum of its "
        "losses; the batch version of 4.2.4 divides by the batch size"
    ),
    "one-d-version": N_(
        "the book's version of 4.4, for a vector: a 2-D array, such as simpleNet's W or TwoLayerNet's W1, breaks it"
    ),
    "used-where-breaks": N_("{user} uses it where it stops working, so there it is a mistake"),
    "top-level-breaks": N_(
        "your file's top level uses it where it stops working (line {line}), so there it is a mistake"
    ),
    "name": N_("{name} is not defined"),
    "extra-sigmoid": N_("sigmoid is applied to the scores before softmax"),
    "softmax-twice": N_("softmax is applied twice"),
    "bias": N_("the output does not change with {name}"),
    "always-one": N_("the accuracy is 1.0 even when every prediction is wrong"),
    "after-call": N_("got is x after the call, expected is x before it"),
    "labels-fix": N_(
        "for labels the division reads: return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size"
    ),
    "one-hot-to-labels": N_(
        "it passes one-hot t to a cross entropy that takes labels, so each 0 and 1 is read as a label"
    ),
    "worst-of-methods": N_("the worst of its methods below"),
    "one-d-note": N_("it takes one number, as in the book's gradient_1d.py, so it was checked as numerical_diff"),
}


#: The book's own earlier versions (a one-sample loss or softmax, one form of target, a 1-D gradient):
#: warnings where they are defined, failures where the same file uses them where they stop working.
EARLIER_VERSIONS = ("sum-not-mean", "softmax-single-sample", "labels-vs-one-hot", "one-dimensional-only")


def earlier_version(finding: dict) -> bool:
    """Whether ``finding`` (a finding's JSON) is one of the book's earlier versions, a warning."""
    return finding.get("id") in EARLIER_VERSIONS and finding.get("severity") == WARN
