"""The `garden` command: a thin wrapper over the library.

    garden list [PATTERN]            registered models with their papers
    garden info NAME [--layers]      one model: paper, arguments, parameters, multiply-adds
    garden data prepare NAME         write a dataset as TFRecords (digits, tfds:NAME), with counts
    garden recipes                   the bundled recipes: name, paper, claim, expected run time
    garden train RECIPE              train a recipe: a TOML file or a bundled recipe's name
    garden lr-find RECIPE            LR range test on a recipe's model and data: plot, suggestions
    garden export MODEL.keras OUT    SavedModel directory or .tflite file, optionally verified
    garden demo                      the main job on the embedded digits
    garden conv-arith --input 5 ...  output size of a convolution (Dumoulin & Visin), GIF
    garden dream MODEL --layers L    DeepDream a photograph with a classifier's layers
    garden compute RECIPE...         accuracy against multiply-adds of trained recipes
    garden federated certs|serve|client   a Flower deployment with TLS and node authentication
    garden weights list [PATTERN]    pretrained checkpoints: source, file, size, top-1, cached
    garden weights convert FILE --model NAME OUT.weights.h5   a checkpoint as Keras weights

Bad input prints one line on stderr and exits with status 2. Arguments are parsed before
TensorFlow is imported, so `garden --help` and argument errors return at once.
"""

import argparse
import os
import sys
import zipfile
from pathlib import Path

from garden import __version__

QUANTIZE = ("float", "float16", "dynamic", "int8")


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # main() prefixes "garden: error: "; a subcommand names itself
        command = self.prog.removeprefix("garden").strip()
        raise UsageError(f"{command}: {message}" if command else message)


class _DatasetsHelp(argparse.Action):
    """`-h` of `data prepare`: the help with every dataset (importing garden.data only then)."""

    def __init__(self, option_strings, dest, **kwargs):
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super().__init__(option_strings, dest, help="show this help with every dataset, and exit",
                         **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from garden import data

        kinds = data.list_datasets()
        parser.epilog = (
            f"datasets: {', '.join(kinds['embedded'])} (embedded, no download); tfds:NAME (any "
            "image-classification dataset of tensorflow-datasets, e.g. tfds:mnist); generated in "
            f"memory by garden.data.load, nothing to prepare: {', '.join(kinds['generated'])}."
        )
        parser.print_help()
        parser.exit()


def _file(kind, must_exist=True):
    """An argparse type: a path to a file (not a directory); with `must_exist`, an existing one."""

    def check(text):
        path = Path(text)
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{kind} {text!r} is a directory, not a file")
        if must_exist and not path.exists():
            raise argparse.ArgumentTypeError(f"{kind} {text!r} does not exist")
        return text

    return check


def _load_model(path):
    """The Keras model in file `path`; a `.keras` file that is not one is reported as such."""
    import keras

    if Path(path).suffix == ".keras" and not (
        zipfile.is_zipfile(path) and "config.json" in zipfile.ZipFile(path).namelist()
    ):
        raise UsageError(
            f"model file {path!r} is not a Keras model file: a .keras file is the zip archive "
            "that model.save('NAME.keras') writes"
        )
    return keras.saving.load_model(path)


def cmd_list(args):
    from garden import models

    names = models.list_models(args.pattern)
    if not names:
        raise UsageError(f"no model matches {args.pattern!r}")
    entries = [models.get_entry(name) for name in names]
    width = max(map(len, names))
    task_width = max(len(entry.task) for entry in entries)
    for name, entry in zip(names, entries):
        print(f"{name:<{width}}  {entry.year}  {entry.task:<{task_width}}  {entry.paper}")


def cmd_info(args):
    from garden import models, tools

    info = models.info(args.name)
    for key in ("name", "paper", "year", "arxiv", "task", "input_shape", "parameters"):
        value = f"{info[key]:,}" if key == "parameters" else info[key]
        print(f"{key + ':':<13}{value}")
    print(f"{'arguments:':<13}{', '.join(info['arguments'])}")
    try:
        profile = tools.profile(models.build(args.name))
    except ValueError as e:  # e.g. a default input of unknown size
        print(f"{'mult-adds:':<13}unknown ({e})")
    else:
        print(f"{'mult-adds:':<13}{profile.multiply_adds:,} per example "
              f"({profile.multiply_adds / 1e6:.1f}M; convolution, dense and recurrent kernels)")
        if args.layers:
            print(f"\n{profile.table()}")
    print(f"\n{info['doc']}")
    rows = _checkpoint_rows([args.name])
    print("\ncheckpoints:" + ("\n" + _table(rows) if rows else
                              " none (weights=None, or a Keras weights file)"))


def _checkpoint_rows(names):
    """One row per pretrained checkpoint of the models `names` (header first if any)."""
    from garden import weights

    rows = [
        [name, c.source + " *" * (c is weights.default_checkpoint(name)), c.file_name,
         f"{c.size_bytes / 1e6:.1f} MB" if c.size_bytes else "?", f"{c.top1:.2f}%",
         c.preprocessing, "yes" if os.path.exists(weights.cache_path(c)) else "no"]
        for name in names for c in weights.checkpoints(name).values()
    ]
    header = ["model", "source", "file", "size", "top-1", "input", "cached"]
    return [header, *rows] if rows else []


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def cmd_weights(args):
    from garden import models
    from garden.utils.files import atomic_path

    if args.weights_command == "list":
        rows = _checkpoint_rows(models.list_models(args.pattern))
        if not rows:
            raise UsageError(f"no model matching {args.pattern!r} has a pretrained checkpoint")
        print(_table(rows))
        print("* the model's weights=\"imagenet\"; cached: in Keras' cache ($KERAS_HOME/models, "
              "~/.keras/models by default)")
        return
    if not args.output.endswith(".weights.h5"):
        raise UsageError(f"output {args.output!r} is not allowed: use a NAME.weights.h5 path")
    model = models.build(args.model, weights=args.file)
    with atomic_path(args.output) as tmp:
        model.save_weights(str(tmp))
    print(f"wrote {args.output}: {args.model}'s weights from {args.file}")


def cmd_data_prepare(args):
    from garden import data

    path = data.prepare(args.name, root=args.root, data_dir=args.data_dir, progress=True)
    for split, stored in data.info(args.name, root=args.root)["splits"].items():
        shards = len(stored["shards"])
        print(f"{split}: {stored['examples']:,} examples of shape {tuple(stored['image_shape'])} "
              f"in {shards} shard{'s' * (shards > 1)}")
    print(f"wrote {path}")


def cmd_recipes(args):
    from garden.recipes import schema

    for name in schema.bundled_recipes():
        recipe, _ = schema.read_recipe(name)
        print(f"{name}  ({recipe.get('paper', 'no paper')}; "
              f"{recipe.get('time', 'run time not recorded')})")
        print(f"    {recipe.get('claim', '')}")


def cmd_train(args):
    from garden import recipes

    if args.workers < 1:
        raise UsageError(f"--workers {args.workers} is not allowed: use an integer >= 1")
    if args.workers > 1:
        raise SystemExit(_train_workers(args))
    try:
        recipes.train(args.recipe, runs_dir=args.runs_dir, export_dir=args.export_dir,
                      fresh=args.fresh)
    except KeyboardInterrupt as e:  # Ctrl-C: one line and status 130, as a shell expects
        message = str(e) if isinstance(e, recipes.Interrupted) else (
            "interrupted; run the same command to resume")
        print(f"garden: {message}", file=sys.stderr)
        raise SystemExit(130) from None


def _train_workers(args):
    """`garden train --workers N`: N local worker processes of a multi_worker recipe, each with
    the TF_CONFIG of a cluster on loopback ports; worker 0 is the chief. Their exit status."""
    from garden.recipes import distribute, schema

    recipe, source = schema.read_recipe(args.recipe)
    strategy = recipe.get("distribute", {}).get("strategy") if isinstance(
        recipe.get("distribute"), dict) else None
    if strategy != "multi_worker":
        raise UsageError(f"--workers {args.workers} needs a recipe with [distribute] strategy = "
                         f"\"multi_worker\"; {source} has {strategy or 'no [distribute]'}")
    argv = ["train", args.recipe, "--runs-dir", args.runs_dir, "--export-dir", args.export_dir]
    procs = distribute.start_workers(argv + ["--fresh"] * args.fresh, args.workers)
    return distribute.wait_workers(procs)


def cmd_lr_find(args):
    import copy

    from garden import recipes
    from garden.callbacks import lr_range_test

    by_name = dict(recipes.variants(recipes.load_recipe(args.recipe)))
    variant = args.variant or next(iter(by_name))
    if variant not in by_name:
        raise UsageError(f"unknown variant {variant!r}; the recipe has: {', '.join(by_name)}")
    recipe = by_name[variant]
    train_cfg = copy.deepcopy(recipe.get("train", {}))
    optimizer = train_cfg.get("optimizer")
    optimizer_config = optimizer.get("config", {}) if isinstance(optimizer, dict) else {}
    if isinstance(optimizer_config.get("learning_rate"), dict):
        optimizer_config["learning_rate"] = args.min_lr  # the sweep replaces the schedule
    model, train_data, _ = recipes.build_training(recipe, recipe["seeds"][0], train_cfg)
    path = Path(args.output or Path(args.runs_dir) / recipe["name"] / "lr_find.png")
    finder = lr_range_test(model, train_data, min_lr=args.min_lr, max_lr=args.max_lr,
                           steps=args.steps, mode=args.mode, path=path)
    print(f"{recipe['name']}/{variant}: {len(finder.losses)} steps, "
          f"learning rate {finder.learning_rates[0]:.3g} to {finder.learning_rates[-1]:.3g}")
    for key, value in finder.suggestions().items():
        print(f"{key + ':':<15}{value:.3g}")
    print(f"wrote {path}")


def _export_output(text):
    """An argparse type: a `.tflite` file, or a directory (no suffix) for a SavedModel."""
    path = Path(text)
    if path.suffix not in ("", ".tflite") and not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"output {text!r} is neither a .tflite file nor a directory for a SavedModel: name "
            "it NAME.tflite, or a directory without an extension")
    return text


def cmd_export(args):
    import keras

    tflite = args.output.endswith(".tflite")
    if not tflite and args.quantize != "float":
        raise UsageError("--quantize applies to .tflite outputs only")
    if args.quantize == "int8" and not args.data:
        raise UsageError("--quantize int8 needs --data: a dataset of representative inputs to "
                         "calibrate on, e.g. --data digits")
    if keras.backend.backend() != "tensorflow":  # the .keras file converts on TensorFlow
        import os
        import subprocess

        argv = [args.model, args.output, "--quantize", args.quantize]
        argv += ["--data", args.data] if args.data else []
        env = dict(os.environ, KERAS_BACKEND="tensorflow")
        status = subprocess.run([sys.executable, "-m", "garden.cli", "export", *argv],
                                env=env).returncode
        if status:
            raise SystemExit(status)
        return
    from garden import data, export

    model = _load_model(args.model)
    if not tflite:
        print(f"wrote {export.saved_model(model, args.output)}")
        return
    deployable = export.deployables(model)[0]
    samples = test = labels = None
    if args.data:
        shapes = [tuple(t.shape[1:]) for t in deployable.network.inputs]
        shape = shapes[0]
        if len(shapes) == 1 and len(shape) == 3 and None not in shape:  # resized to fit
            samples, test = (data.load(args.data, split, image_size=shape[:2],
                                       channels=shape[2], shuffle=False)
                             for split in ("train", "test"))
        else:
            samples, test = (data.load(args.data, split, shuffle=False)
                             for split in ("train", "test"))
        found = tuple(samples.element_spec[0].shape[1:])
        if len(shapes) != 1 or len(found) != len(shape) or any(
                size not in (None, got) for size, got in zip(shape, found)):
            shape = shape if len(shapes) == 1 else shapes
            raise UsageError(f"--data {args.data} gives examples of shape {found} but "
                             f"{deployable.description} takes {shape}")
        names = data.info(args.data).get("class_names")
        classes = deployable.network.outputs[0].shape[-1]
        labels = names if names and len(names) == classes else None
    path = export.tflite(model, args.output, quantize=args.quantize, representative_data=samples,
                         labels=labels)
    print(f"wrote {path}: {deployable.description}")
    if labels:
        print(f"wrote {path.with_name(path.stem + '.labels.txt')}")
    if test is not None:
        for key, value in export.verify(model, path, test).as_dict().items():
            print(f"{key + ':':<16}{value}")


def cmd_demo(args):
    from garden import demo

    demo.run(runs_dir=args.runs_dir, export_dir=args.export_dir, fresh=args.fresh)


def _axes(text, name):
    """A comma-separated list of per-axis values: ints, or padding names."""
    values = []
    for item in str(text).split(","):
        item = item.strip()
        if item.lstrip("-").isdigit():
            values.append(int(item))
        elif name == "padding" and item:
            values.append(item)
        else:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} {text!r}: use integers separated by commas")
    return values


def cmd_conv_arith(args):
    from garden import tools

    given = {name: _axes(getattr(args, name), name)
             for name in ("input", "kernel", "stride", "padding", "dilation", "output_padding")
             if getattr(args, name) is not None}
    axes = max(len(values) for values in given.values())
    if any(len(values) not in (1, axes) for values in given.values()):
        raise UsageError(f"give 1 or {axes} comma-separated values for every option")
    per_axis = [{name: values[k % len(values)] for name, values in given.items()}
                for k in range(axes)]
    if args.kind != "transposed" and "output_padding" in given:
        raise UsageError("--output-padding applies to --kind transposed only")
    results = []
    for axis in per_axis:
        common = dict(strides=axis.get("stride", None if args.kind == "pool" else 1),
                      padding=axis.get("padding", 0))
        if args.kind == "pool":
            result = tools.pool_arithmetic(axis["input"], axis["kernel"], **common)
        elif args.kind == "transposed":
            result = tools.transposed_conv_arithmetic(
                axis["input"], axis["kernel"], output_padding=axis.get("output_padding"),
                dilation_rate=axis.get("dilation", 1), **common)
        else:
            result = tools.conv_arithmetic(axis["input"], axis["kernel"],
                                           dilation_rate=axis.get("dilation", 1), **common)
        results.append(result)
        print(result)
        if result.kind == "transposed convolution":
            stretched, (before, after) = result.equivalent_convolution
            print(f"  = unit-stride convolution of the kernel over {stretched} stretched inputs "
                  f"(s - 1 zeros between inputs) padded ({before}, {after})")
    print(f"output shape: {tuple(r.output_size for r in results)}")
    if args.gif:
        if len(set(results)) != 1:
            raise UsageError("--gif draws a square case: give the same values for every axis")
        print(f"wrote {tools.animate(results[0], args.gif)}")


def cmd_dream(args):
    from garden import models, tools

    if Path(args.model).is_file():
        model = _load_model(args.model)
    else:
        model = models.build(args.model)
    image = tools.load_image(args.image, channels=model.input_shape[-1], size=args.size)
    layers = [name.strip() for name in args.layers.split(",")]
    before = tools.dream_objective(model, image, layers)
    dreamed = tools.deep_dream(model, image, layers, steps=args.steps, step_size=args.step_size,
                               octaves=args.octaves, octave_scale=args.octave_scale,
                               jitter=args.jitter, seed=args.seed)
    after = tools.dream_objective(model, dreamed, layers)
    print(f"mean squared activation of {', '.join(layers)}: {before:.4g} -> {after:.4g}")
    print(f"wrote {tools.save_image(dreamed, args.output)}")


def cmd_compute(args):
    from garden import tools
    from garden.recipes import compute_points

    points = compute_points(args.recipes, runs_dir=args.runs_dir, metric=args.metric)
    print(tools.format_points(points))
    if len(points) >= 2:
        _, slope = tools.power_law(points)
        print(f"\nfitted power law: test error ~ multiply-adds^{slope:.3f}")
    if args.output:
        print(f"wrote {tools.plot_accuracy_vs_compute(points, args.output)}")


def cmd_federated(args):
    from garden.federated import deploy

    if args.federated_command == "certs":
        directory = deploy.make_certificates(args.directory, args.nodes, args.host)
        hosts = ", ".join(dict.fromkeys(deploy.HOSTS + tuple(args.host)))
        print(f"wrote a CA, the SuperLink's certificate for {hosts} and {args.nodes} SuperNode "
              f"key pairs to {directory}")
        return
    if args.federated_command == "serve":
        status = deploy.serve(args.directory, args.port, args.host)
    else:
        config = f"partition-id={args.node} num-partitions={args.partitions} {args.node_config}"
        status = deploy.client(args.directory, args.node, args.superlink, args.port,
                               config.strip())
    if status:
        raise SystemExit(status)


def _parser():
    parser = _Parser(prog="garden", description="A Keras 3 model garden.")
    parser.add_argument("--version", action="version", version=f"garden {__version__}",
                        help="print garden's version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     metavar="COMMAND")

    p = commands.add_parser("list", help="list registered models")
    p.add_argument("pattern", nargs="?", default="*", help="wildcard, e.g. 'vgg*'")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("info", help="describe one model")
    p.add_argument("name", help="a registered model name (see `garden list`)")
    p.add_argument("--layers", action="store_true",
                   help="also print parameters and multiply-adds of every layer")
    p.set_defaults(func=cmd_info)

    p = commands.add_parser("data", help="datasets")
    data_commands = p.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    p = data_commands.add_parser("prepare", help="write a dataset as TFRecord shards",
                                 add_help=False)
    p.add_argument("-h", "--help", action=_DatasetsHelp)
    p.add_argument("name", help="digits, or tfds:NAME for a tensorflow-datasets dataset "
                   "(--help lists every dataset)")
    p.add_argument("--root", default="tfrecords", help="data directory (default: tfrecords)")
    p.add_argument("--data-dir", help="for tfds:NAME: the tensorflow-datasets directory holding "
                   "the dataset or to download it into (default: tfds', ~/tensorflow_datasets)")
    p.set_defaults(func=cmd_data_prepare)

    def run_options(p):
        p.add_argument("--runs-dir", default="runs", help="run directories (default: runs)")
        p.add_argument("--export-dir", default="saved_models",
                       help="export directory (default: saved_models)")
        p.add_argument("--fresh", action="store_true",
                       help="start over instead of resuming or reusing finished runs")

    p = commands.add_parser("recipes", help="list the bundled recipes")
    p.set_defaults(func=cmd_recipes)

    p = commands.add_parser("train", help="train a recipe")
    p.add_argument("recipe", type=_file("recipe", must_exist=False),
                   help="a TOML recipe file, or a bundled recipe's name (see `garden recipes`), "
                   "e.g. mobilenet_v1_digits")
    run_options(p)
    p.add_argument("--workers", type=int, default=1,
                   help="start this many local worker processes of a multi_worker recipe "
                   "(TF_CONFIG on loopback ports; default: 1, this process)")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("lr-find", help="LR range test (Smith 2015) on a recipe")
    p.add_argument("recipe", type=_file("recipe", must_exist=False),
                   help="a TOML recipe file or a bundled recipe's name, e.g. clr_digits")
    p.add_argument("--variant", help="which [variants.NAME] to test (default: the first)")
    p.add_argument("--min-lr", type=float, default=1e-5, help="first rate (default: 1e-5)")
    p.add_argument("--max-lr", type=float, default=10.0, help="last rate (default: 10)")
    p.add_argument("--steps", type=int, default=100, help="iterations (default: 100)")
    p.add_argument("--mode", choices=("exponential", "linear"), default="exponential",
                   help="how the rate grows from step to step (default: exponential)")
    p.add_argument("--output", help="plot file (default: RUNS_DIR/NAME/lr_find.png)")
    p.add_argument("--runs-dir", default="runs", help="run directories (default: runs)")
    p.set_defaults(func=cmd_lr_find)

    p = commands.add_parser("export", help="export a .keras model")
    p.add_argument("model", type=_file("model file"), help="a .keras file")
    p.add_argument("output", type=_export_output,
                   help="a .tflite file, or a directory for a SavedModel")
    p.add_argument("--quantize", choices=QUANTIZE, default="float",
                   help="TFLite weights and math: float (default), float16, dynamic (int8 "
                   "weights) or int8 (full integer, needs --data)")
    p.add_argument("--data", help="dataset for int8 calibration and verification, e.g. digits")
    p.set_defaults(func=cmd_export)

    p = commands.add_parser(
        "conv-arith", help="output size of a convolution, pooling or transposed convolution",
        description="Convolution arithmetic (Dumoulin & Visin 2016). Every option takes one "
        "value, or one per axis separated by commas (e.g. --input 5,7).")
    p.add_argument("--kind", choices=("conv", "pool", "transposed"), default="conv",
                   help="convolution (default), pooling or transposed convolution")
    p.add_argument("--input", required=True, help="input size i (i' for transposed)")
    p.add_argument("--kernel", required=True, help="kernel (window) size k")
    p.add_argument("--stride", help="stride s (default 1; pooling: the window size)")
    p.add_argument("--padding", help="p, or valid, half, full, same, causal (default 0)")
    p.add_argument("--dilation", help="dilation rate d (default 1)")
    p.add_argument("--output-padding", help="a, for --kind transposed (default: Keras')")
    p.add_argument("--gif", help="write an animated GIF of the (square) case to this path")
    p.set_defaults(func=cmd_conv_arith)

    p = commands.add_parser("dream", help="DeepDream a photograph with a classifier's layers")
    p.add_argument("model", type=_file("model", must_exist=False),
                   help="a .keras file, or a registered model name (untrained)")
    p.add_argument("--layers", required=True, help="comma-separated layer names to amplify")
    p.add_argument("--image", default="astronaut",
                   help="a scikit-image photograph name or an image file (default: astronaut)")
    p.add_argument("--size", type=int, default=256, help="longer side in pixels (default 256)")
    p.add_argument("--steps", type=int, default=20, help="steps per octave (default 20)")
    p.add_argument("--step-size", type=float, default=0.01,
                   help="gradient ascent step (default 0.01)")
    p.add_argument("--octaves", type=int, default=3, help="image scales (default 3)")
    p.add_argument("--octave-scale", type=float, default=1.4,
                   help="size ratio between octaves (default 1.4)")
    p.add_argument("--jitter", type=int, default=8, help="random shift in pixels (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the jitter (default 0)")
    p.add_argument("--output", default="dream.png", help="image to write (default dream.png)")
    p.set_defaults(func=cmd_dream)

    p = commands.add_parser("compute", help="accuracy against multiply-adds of trained recipes")
    p.add_argument("recipes", nargs="+", type=_file("recipe", must_exist=False),
                   help="recipe files or bundled recipes' names, trained with `garden train`")
    p.add_argument("--runs-dir", default="runs", help="run directories (default: runs)")
    p.add_argument("--metric", default="test_accuracy",
                   help="the result to plot (default: test_accuracy)")
    p.add_argument("--output", help="write the plot (PNG) to this path")
    p.set_defaults(func=cmd_compute)

    p = commands.add_parser("federated", help="a secure Flower deployment: certificates, "
                            "SuperLink, SuperNodes")
    federated_commands = p.add_subparsers(dest="federated_command", required=True,
                                          parser_class=_Parser)
    p = federated_commands.add_parser(
        "certs", help="write a CA, the SuperLink's TLS certificate and SuperNode key pairs")
    p.add_argument("directory", help="a new directory for them")
    p.add_argument("--nodes", type=int, default=3, help="SuperNode key pairs (default 3)")
    p.add_argument("--host", action="append", default=[],
                   help="another host name or IP address of the SuperLink, for nodes on other "
                   "machines (repeatable; localhost and 127.0.0.1 always)")
    p.set_defaults(func=cmd_federated)
    p = federated_commands.add_parser(
        "serve", help="run the SuperLink with TLS and SuperNode authentication, registering "
        "every node key of DIRECTORY")
    p.add_argument("directory", help="the directory `garden federated certs` wrote")
    p.add_argument("--port", type=int, default=29100, help="its HTTP port (default 29100)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)")
    p.set_defaults(func=cmd_federated)
    p = federated_commands.add_parser("client", help="run SuperNode K, authenticated by its key")
    p.add_argument("directory", help="a directory holding ca.crt and nodes/node-K")
    p.add_argument("--node", type=int, required=True, help="K, the node's key pair and partition")
    p.add_argument("--superlink", default="127.0.0.1:29100",
                   help="the SuperLink's HOST:PORT (default 127.0.0.1:29100)")
    p.add_argument("--port", type=int, help="the node's local Runtime API port "
                   "(default 29110 + K)")
    p.add_argument("--partitions", type=int, default=3,
                   help="num-partitions of the node config (default 3)")
    p.add_argument("--node-config", default="",
                   help="more node config, e.g. 'delay=1.0' (partition-id is K)")
    p.set_defaults(func=cmd_federated)

    p = commands.add_parser("weights", help="pretrained checkpoints: list, convert")
    weights_commands = p.add_subparsers(dest="weights_command", required=True,
                                        parser_class=_Parser)
    p = weights_commands.add_parser("list", help="every model's checkpoints and whether cached")
    p.add_argument("pattern", nargs="?", default="*", help="model wildcard, e.g. 'resnet*'")
    p.set_defaults(func=cmd_weights)
    p = weights_commands.add_parser(
        "convert", help="a PyTorch/safetensors checkpoint as a Keras .weights.h5 file")
    p.add_argument("file", type=_file("checkpoint"), help="a .pth, .pt or .safetensors file")
    p.add_argument("--model", required=True, help="the garden model it is for, e.g. resnet18")
    p.add_argument("output", help="the .weights.h5 file to write")
    p.set_defaults(func=cmd_weights)

    p = commands.add_parser("demo", help="train, export and verify MobileNet v1 on digits")
    run_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    """Runs the `garden` command on `argv` (default: the process's arguments); the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    if not argv:
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
        import garden

        garden._load_keras()  # TensorFlow, imported quietly, and garden's Keras objects
        args.func(args)
    except BrokenPipeError:  # e.g. `garden recipes | head`: the reader has gone
        sys.stdout = open(os.devnull, "w")
    except (UsageError, ValueError, FileNotFoundError) as e:
        message = str(e).strip().splitlines() or [type(e).__name__]
        print(f"garden: error: {' '.join(line.strip() for line in message)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
