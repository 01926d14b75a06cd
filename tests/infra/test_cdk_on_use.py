"""What the infra tests import at collection loads no CDK (infra/names.py): aws_cdk starts node and
loads the aws-cdk-lib assembly, about 1.5 CPU-seconds in each pytest worker that imports it; the
synthesis and the tests that need it load it when they run."""
import subprocess
import sys

from infra.resources import ROOT


def test_names_bundling_and_nag_load_no_cdk_until_used():
    code = ("import sys, infra.names, infra.bundling, infra.nag; "
            "assert not {'aws_cdk', 'jsii'} & set(sys.modules), sorted({'aws_cdk', 'jsii'} & set(sys.modules)); "
            "infra.bundling.LocalPythonBundling; assert 'aws_cdk' in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
