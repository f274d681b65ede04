"""Populations: K models of one architecture, each the solo run of its own config.

`member_configs` turns a population config into the K solo configs that reproduce
its members (the ones written to workdir/members/<i>/config.json). The rest
follows from them: the population's state is the members' solo initial states
stacked on a leading member axis, and its step is the solo step (steps.py)
vmapped or looped over that axis (`vectorize`) and compiled once. Members stay
independent: their own RNG keys, batch-norm statistics, Adam states and
hyper-parameters (state.hparams), nothing reduced over the member axis. A member
whose metrics turn non-finite is frozen at its last finite state (diverged_at),
while the others go on.
"""

import functools
from typing import Any, Callable, Optional, Sequence

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from wae_jax.training import steps
from wae_jax.training.state import TrainState, hparams_of, set_learning_rate
from wae_jax.training.validation import POPULATION_VECTORIZE, VARYING_FIELDS, ConfigError

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]
PRETRAINING = -1  # PopulationState.diverged_at of a member whose encoder pre-training diverged
VECTORIZE = tuple(v for v in POPULATION_VECTORIZE if v != "auto")  # what 'auto' resolves to


def size(config: ml_collections.ConfigDict) -> int:
    return config.population.size


def per_member_data(config: ml_collections.ConfigDict) -> bool:
    """Each member its own input pipeline (population.data='per_member'), not one batch."""
    return size(config) > 1 and config.population.data == "per_member"


def data_seed(config: ml_collections.ConfigDict) -> int:
    """The seed of the training data's order: data_seed when set, else seed."""
    return config.data_seed if config.data_seed >= 0 else config.seed


def model_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """config.model for the vmapped program: on a CPU, conv_lowering 'auto' becomes 'matmul'.

    Under vmap, a convolution with per-member weights becomes a grouped convolution,
    which XLA:CPU runs ~3x slower than the members one after another; 'matmul' leaves no
    convolution op (benchmarks/population_throughput.py, docs/results.md). GPUs and TPUs
    keep XLA's own ops. A solo run of a member's config uses 'auto': equal to float
    tolerance, not bit for bit.
    """
    if size(config) == 1 or config.model.conv_lowering != "auto" or (
            jax.default_backend() != "cpu"):
        return config.model
    model = ml_collections.ConfigDict(config.model.to_dict())
    model.conv_lowering = "matmul"
    return model


def vectorize(config: ml_collections.ConfigDict) -> str:
    """population.vectorize, 'auto' resolved: 'loop' on CPU, 'vmap' on accelerators.

    On XLA:CPU the vmapped step of a conv net runs slower than its members one after
    another (the batched ops of K members stream from memory where one member's fit in
    cache); 'loop' runs them one after another inside the one program, each device
    over its own members when they are split over devices. Figures:
    benchmarks/population_throughput.py, docs/results.md.
    """
    choice = config.population.vectorize
    if choice != "auto":
        return choice
    return "loop" if jax.default_backend() == "cpu" else "vmap"


def member_value(config: ml_collections.ConfigDict, field: str, index: int):
    """Member `index`'s value of a varying field: its per-member entry or the config's."""
    values = tuple(config.population[field])
    if values:
        return values[index]
    return config.seed + index if field == "seed" else config[field]


def member_config(config: ml_collections.ConfigDict, index: int) -> ml_collections.ConfigDict:
    """The solo config (population.size=1) that trains member `index` alone, identically."""
    member = config.copy_and_resolve_references()
    for field in VARYING_FIELDS:
        member[field] = member_value(config, field, index)
        member.population[field] = ()
    # Shared data: every member reads the population's order. Per-member data: each
    # its own, as a solo run of its seed would (or data_seed's, when set).
    member.data_seed = config.data_seed if per_member_data(config) else data_seed(config)
    member.population.size = 1
    member.population.data = "shared"
    return member


def member_configs(config: ml_collections.ConfigDict) -> list[ml_collections.ConfigDict]:
    return [member_config(config, i) for i in range(size(config))]


def varied_values(config: ml_collections.ConfigDict) -> list[dict]:
    """Per member, the values of the fields that differ between members (and the seed)."""
    varied = [f for f in VARYING_FIELDS if f == "seed" or tuple(config.population[f])]
    return [{f: member_value(config, f, i) for f in varied} for i in range(size(config))]


class PopulationState(flax.struct.PyTreeNode):
    members: TrainState  # every leaf stacked on a leading member axis [K, ...]
    diverged_at: jax.Array  # int32 [K]: the update whose metrics turned non-finite; 0 = training


@jax.jit
def _take_member(members: TrainState, index: jax.Array) -> TrainState:
    return jax.tree.map(lambda leaf: leaf[index], members)


def member_state(state: PopulationState, index: int) -> TrainState:
    """Member `index`'s TrainState, as its solo run would hold it.

    One compiled program, started after the population's last step has finished and
    run to completion: with the members split over several CPU devices, per-leaf eager
    gathers overlapping another multi-device program deadlocked XLA:CPU's collectives
    (4 forced host devices, 2 cores: a rendezvous timeout and abort).
    """
    jax.block_until_ready(state.members)
    return jax.block_until_ready(_take_member(state.members, jnp.int32(index)))


def _with_hparams(state: TrainState, config: ml_collections.ConfigDict) -> TrainState:
    """`state` with the config's hyper-parameters, as create_train_state(config) sets them."""
    hparams = hparams_of(config)
    opt_state = set_learning_rate(state.opt_state, hparams["learning_rate"])
    adversary_opt_state = state.adversary_opt_state
    if hasattr(adversary_opt_state, "hyperparams"):  # WAE-GAN's adversary Adam
        adversary_opt_state = set_learning_rate(adversary_opt_state,
                                                hparams["adversary_learning_rate"])
    return state.replace(hparams=hparams, opt_state=opt_state,
                         adversary_opt_state=adversary_opt_state)


def initial_member_states(config: ml_collections.ConfigDict,
                          create: Callable[[jax.Array], TrainState]) -> list[TrainState]:
    """Each member's solo initial state: `create(PRNGKey(seed))`, one compiled
    create_train_state(config, ...) for all members, with the member's hyper-parameters."""
    return [_with_hparams(create(jax.random.PRNGKey(member.seed)), member)
            for member in member_configs(config)]


def stack(states: Sequence[TrainState]) -> PopulationState:
    """Solo states (e.g. after each member's encoder pre-training) as one population."""
    return PopulationState(jax.tree.map(lambda *leaves: jnp.stack(leaves), *states),
                           jnp.zeros(len(states), jnp.int32))


def _all_finite(metrics: Metrics) -> jax.Array:
    """Every metric of a member is finite: bool [K], or a scalar for one member's metrics."""
    return jnp.all(jnp.stack([jnp.isfinite(v) for v in metrics.values()]), axis=0)


def _active(diverged_at: jax.Array, step: jax.Array, last_step: jax.Array) -> jax.Array:
    """Which members (or whether one member) still train: not diverged, not finished."""
    return (diverged_at == 0) & (step < last_step)


def _diverged_at(diverged_at: jax.Array, step: jax.Array, active: jax.Array,
                 metrics: Metrics) -> jax.Array:
    """diverged_at after an update at `step` that reported `metrics`: the update's
    number where an active member's metrics turned non-finite, else unchanged."""
    return jnp.where(active & ~_all_finite(metrics), step + 1, diverged_at)


def make_population_step(config: ml_collections.ConfigDict, model: nn.Module,
                         adversary: Optional[nn.Module], steps_per_epoch: Sequence[int],
                         last_steps: Sequence[int], per_member_data: bool = False,
                         vectorize: str = "vmap", mesh: Optional[Mesh] = None
                         ) -> Callable[..., tuple[PopulationState, Metrics]]:
    """The solo train step over the members: vmapped, or with vectorize='loop' run one
    member after another inside the one program (see `vectorize`); given the mesh
    that state_sharding splits the members over, each device loops over its own.

    batch["image"] is one batch shared by all members, or with per_member_data one
    per member ([K, B, ...]). Member i schedules by its own steps_per_epoch[i] and
    stops after last_steps[i] updates. A member whose metrics are not all finite
    keeps its previous state from then on (its updates are discarded), so it is
    never saved with NaN; a finished member keeps its final state, and so does one
    whose entry of the step's optional `enabled` (bool [K]) is False, e.g. a member
    that stopped early. Only members that are still training report metrics.
    """
    if vectorize not in VECTORIZE:
        raise ValueError(f"vectorize={vectorize!r}: use one of {VECTORIZE}")
    epoch_lengths = jnp.asarray(steps_per_epoch, jnp.int32)
    last = jnp.asarray(last_steps, jnp.int32)

    def member_step(state: TrainState, batch: Batch, epoch_length: jax.Array,
                    active: jax.Array) -> tuple[TrainState, Metrics]:
        """An active member's update, kept if its metrics are all finite; an inactive
        one keeps its state and reports zeros (not computed in a loop; under vmap
        computed and discarded)."""
        train_step = steps.make_train_step(config, model, adversary, epoch_length)

        def update():
            updated, metrics = train_step(state, batch)
            return jax.lax.cond(_all_finite(metrics), lambda: updated, lambda: state), metrics

        def skip():
            shapes = jax.eval_shape(lambda: train_step(state, batch)[1])
            return state, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

        return jax.lax.cond(active, update, skip)

    in_axes = (0, 0 if per_member_data else None, 0, 0)  # members, batch, lengths, active

    def all_members(members: TrainState, batch: Batch, active: jax.Array
                    ) -> tuple[TrainState, Metrics]:
        args = members, batch, epoch_lengths, active
        if vectorize == "vmap":  # the cond becomes a select on the member axis
            return jax.vmap(member_step, in_axes=in_axes)(*args)
        loop = functools.partial(_loop_over_members, member_step, in_axes=in_axes)
        if mesh is None or not members_split(mesh, len(last)):
            return loop(args)
        # Each device loops over its block of members. The loop's zero-initialised
        # metrics and an inactive member's zeros do not vary over devices where the
        # computed ones do, hence no vma check.
        members_spec = state_sharding(mesh, len(last)).spec
        batch_spec = batch_sharding(mesh, len(last), per_member_data).spec
        return jax.shard_map(lambda *block: loop(block), mesh=mesh,
                             in_specs=(members_spec, batch_spec, members_spec, members_spec),
                             out_specs=members_spec, check_vma=False)(*args)

    def population_step(state: PopulationState, batch: Batch,
                        enabled: Optional[jax.Array] = None
                        ) -> tuple[PopulationState, Metrics]:
        active = _active(state.diverged_at, state.members.step, last)
        if enabled is not None:
            active &= enabled
        members, metrics = all_members(state.members, batch, active)
        diverged_at = _diverged_at(state.diverged_at, state.members.step, active, metrics)
        return PopulationState(members, diverged_at), metrics

    return population_step


def make_member_update(config: ml_collections.ConfigDict, model: nn.Module,
                       adversary: Optional[nn.Module]) -> Callable[..., tuple[TrainState,
                                                                              jax.Array]]:
    """What the population step does to one member, as a program of its own:
    (member, its diverged_at, its batch, steps_per_epoch, last step) -> (member,
    diverged_at), the member's state donated.

    For a host loop over the members on a CPU, where XLA:CPU runs a convolution inside a
    loop or cond body 16-25x slower than at a program's top level (a 14x14x64 -> 64 conv's
    gradient: 1124 ms inside a cond, 68 ms outside), so the in-program loop needs the
    'matmul' lowering: 0.6x the solo program's speed on the augmentation study's class
    VAE (docs/results.md, session 14). Here the step sits at the top level, with whatever
    lowering `model` has, on the member's own arrays (writing it back into stacked ones
    copied them all: 2.3x the step). A member that is inactive (diverged, or past its last
    step) is computed and discarded by a select, not skipped by a cond: callers skip the
    members they know to be done.
    """
    @functools.partial(jax.jit, donate_argnums=0)
    def member_update(member: TrainState, diverged_at: jax.Array, batch: Batch,
                      epoch_length: jax.Array, last_step: jax.Array
                      ) -> tuple[TrainState, jax.Array]:
        active = _active(diverged_at, member.step, last_step)
        updated, metrics = steps.make_train_step(config, model, adversary, epoch_length)(
            member, batch)
        keep = active & _all_finite(metrics)
        kept = jax.tree.map(lambda new, old: jnp.where(keep, new, old), updated, member)
        return kept, _diverged_at(diverged_at, member.step, active, metrics)

    return member_update


def _loop_over_members(fn: Callable, args: tuple, in_axes: tuple) -> tuple[Any, Any]:
    """jax.vmap(fn, in_axes)(*args) computed one member after another, where fn returns
    (its member's new args[0], metrics): a fori_loop that overwrites the stacked args[0]
    in place (1.2x lax.map's speed on the augmentation VAE; lax.map stacks its outputs
    into new arrays, a copy of every state)."""
    size = len(jax.tree.leaves(args[0])[0])

    def member_args(i, first):  # member i's args[0] is read from the loop's own carry
        take = lambda leaf: jax.lax.dynamic_index_in_dim(leaf, i, keepdims=False)
        return [arg if axis is None else jax.tree.map(take, arg)
                for arg, axis in zip((first, *args[1:]), in_axes)]

    _, metrics = jax.eval_shape(lambda: fn(*member_args(0, args[0])))
    outputs = args[0], jax.tree.map(lambda s: jnp.zeros((size, *s.shape), s.dtype), metrics)

    def body(i, outputs):
        put = lambda stacked, leaf: jax.lax.dynamic_update_index_in_dim(stacked, leaf, i, 0)
        return jax.tree.map(put, outputs, fn(*member_args(i, outputs[0])))

    return jax.lax.fori_loop(0, size, body, outputs)


def where_members(mask: jax.Array, new: Any, old: Any) -> Any:
    """Member k of `new` where mask[k] (bool [K]), else of `old`, in every leaf."""
    return jax.tree.map(lambda n, o: jnp.where(mask.reshape((-1,) + (1,) * (n.ndim - 1)), n, o),
                        new, old)


def members_split(mesh: Mesh, num_members: int) -> bool:
    """Whether the members are split over the devices: when they divide evenly."""
    return num_members % mesh.devices.size == 0


def state_sharding(mesh: Mesh, num_members: int) -> NamedSharding:
    """Members over the devices when they divide evenly, else replicated (data split)."""
    if members_split(mesh, num_members):
        return NamedSharding(mesh, P("data"))
    return steps.replicated(mesh)


def batch_sharding(mesh: Mesh, num_members: int, per_member_data: bool) -> NamedSharding:
    """A shared batch: whole on every device when the members are split, else split.
    Per-member batches [K, B, ...]: split as the members are, else over their B axis."""
    split = members_split(mesh, num_members)
    if per_member_data:
        return NamedSharding(mesh, P("data") if split else P(None, "data"))
    return steps.replicated(mesh) if split else steps.data_sharded(mesh)


def compile_population_step(step_fn, mesh: Mesh, num_members: int, per_member_data: bool):
    """jit with the members split over the devices (K a multiple of the device count) and
    the batch as batch_sharding places it, or else the state replicated and the batch
    split; state donated."""
    state = state_sharding(mesh, num_members)
    batch = batch_sharding(mesh, num_members, per_member_data)
    return jax.jit(step_fn, in_shardings=(state, batch), out_shardings=(state, state),
                   donate_argnums=(0,))


def available_memory(device: jax.Device) -> Optional[int]:
    """Bytes a device can hold: its allocator's limit (GPU, TPU), else for CPU devices an
    equal share of the host's available memory (Linux); None when unknown."""
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None
    return kib * 1024 // jax.local_device_count()


def check_memory(compiled: Any, num_members: int, available: Optional[int]) -> None:
    """ConfigError when the compiled population step needs more memory per device (its
    arguments, outputs and temporaries, from XLA's memory analysis) than `available`."""
    stats = compiled.memory_analysis()
    if stats is None or available is None:
        return
    need = (stats.argument_size_in_bytes + stats.output_size_in_bytes
            - stats.alias_size_in_bytes + stats.temp_size_in_bytes)
    if need <= available:
        return
    fits = max(1, int(num_members * available / need))
    gib = 2.0 ** 30
    raise ConfigError(
        f"config.population.size={num_members}: one population step needs {need / gib:.2f} "
        f"GiB per device, more than the {available / gib:.2f} GiB available; lower "
        f"population.size to about {fits} (or use more devices)")
