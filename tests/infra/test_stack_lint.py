"""cfn-lint passes on the synthesized template (the SAM part included: cfn-lint validates it against
SAM's schemas), informational checks included."""
from __future__ import annotations

import subprocess
import sys

# W3005 "dependency already enforced by a GetAtt": CDK itself emits a DependsOn on a function's
# role next to the GetAtt of it (DESIGN §8). I1022 "prefer Fn::Sub over Fn::Join": CDK writes every
# token concatenation as Fn::Join. Nothing else is ignored.
IGNORED = ("W3005", "I1022")


def test_cfn_lint(synth):
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--include-checks", "I", "--ignore-checks", *IGNORED, "--", str(synth.template_file)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
