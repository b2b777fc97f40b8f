"""Training that goes on across calls: one pass per chunk of rows.

:class:`IncrementalTrainer` holds a compiled training model (the block,
plus the transformer's head) and its optimizer between calls, so that
``partial_fit`` on chunk after chunk, and an out-of-core ``fit`` streaming
partition after partition, continue one training run: the weights and the
optimizer's moments carry over, the learning rate schedule is the
optimizer's.
"""

import keras

from ._loop import CompiledModel, initial_state, make_loss, training_model


class IncrementalTrainer:
    """A compiled training model kept for further passes.

    Parameters
    ----------
    block : SFNEBlock
        The block whose architecture and weights training starts from.
    head : keras layer or None
        Trained on top of the block (the transformer's), or None.
    optimizer : str or keras optimizer class
    learning_rate : float
    loss : str or keras loss
    steps_per_execution : int, default=1
        Train steps per call of the traced train function (chunks differ in
        their number of batches: Keras runs the last call shorter).
    """

    def __init__(self, block, head, *, optimizer, learning_rate, loss, steps_per_execution=1):
        weights, seeds = initial_state(block, head)
        self.compiled = CompiledModel(
            training_model(block, head),
            optimizer=optimizer,
            loss=make_loss(loss, block.dtype_policy.compute_dtype),
            steps_per_execution=steps_per_execution,
        )
        self.compiled.reset(weights, float(learning_rate), seeds)
        self.model = self.compiled.model

    def one_pass(self, x, y, *, sample_weight, batch_size, seed):
        """One shuffled pass over ``x`` (seeded); returns the mean training loss."""
        history = self.model.fit(
            x, y, sample_weight=sample_weight, batch_size=batch_size, epochs=1,
            seed=seed, shuffle=True, verbose=0, one_pass=True,
        )
        return float(history.history["loss"][0])

    def get_state(self):
        """Weights (block and head), optimizer variables and dropout's seed
        states, as NumPy arrays."""
        return {
            "weights": self.model.get_weights(),
            "optimizer": [keras.ops.convert_to_numpy(v) for v in self.model.optimizer.variables],
            "seeds": [keras.ops.convert_to_numpy(v) for v in self.compiled.seed_states],
        }

    def set_state(self, state):
        """Continue from :meth:`get_state`'s arrays."""
        self.model.set_weights(state["weights"])
        for variable, value in zip(self.model.optimizer.variables, state["optimizer"]):
            variable.assign(value)
        # States saved before dropout existed have no seeds (and no dropout).
        for variable, value in zip(self.compiled.seed_states, state.get("seeds", ())):
            variable.assign(value)

    def block_weights(self):
        """The trained block's weights (the head, if any, is left out)."""
        return self.model.layers[1].get_weights()

