/* The help texts of the kernel's `bpfbook` subcommands, apart from their code so that
 * `bpfbook help run` and `bpfbook run --help` load nothing else (kernel/run.ts pulls in the publisher). */

export const RUN_USAGE = `usage: bpfbook run <notebook.ipynb> [-o executed.ipynb] [--html report.html] [--timeout SECONDS]
                   [--no-execute] [--no-images] [--no-sign] [--kernel NAME]
                   [--record | --replay] [--recording FOLDER]

Executes the notebook headless with the bpfbook kernel, cell by cell, and exits non-zero
on the first failing cell. The notebook itself is never changed, and without -o or --html
nothing is written (but a --record recording): the run only tells whether every cell succeeds.
  -o FILE        write the executed notebook to FILE (also --output): every chart with a
                 static image (PNG, and SVG unless large) besides the interactive one,
                 plotly.js once, signed (trusted)
  --html FILE    write an HTML report that works offline (plotly.js once, in its <head>)
  --timeout S    seconds a cell may take (default 600)
  --kernel NAME  the Jupyter kernel to run it with (default bpfbook)
  --no-execute   do not run anything: publish the notebook as it is saved (its outputs
                 from an interactive session) to -o / --html
  --no-images    no static images (no Chromium needed)
  --no-sign      do not sign the notebook written with -o
  --record       save what every bpfbook call returned in a recording
                 (default folder: <notebook>.recording/)
  --replay       run from the recording instead of the kernel: no BPF, no root needed
                 (a notebook's metadata "bpfbook": { "mode": "record" | "replay" } does the same)
  --recording F  the recording's folder, for --record or --replay
Static images need Chromium (/usr/bin/chromium, or $BPFBOOK_CHROMIUM). See docs/publishing.md.`;

export const INSTALL_USAGE = `usage: bpfbook install [--user] [--prefix DIR]

Installs the Jupyter kernelspec "bpfbook" (shown as "TypeScript (eBPF)") for this checkout:
writes kernel.json, which starts this build's kernel with this node, and the logo.
  (default)      system-wide, in /usr/local/share/jupyter/kernels/bpfbook
  --user         for this user only, in ~/.local/share/jupyter/kernels/bpfbook
  --prefix DIR   in DIR/bpfbook instead (a kernels directory)
Run it again after moving the checkout or changing node. Cells run as the user Jupyter
runs as: tracing needs root (or CAP_BPF and CAP_PERFMON); see docs/security.md.`;
