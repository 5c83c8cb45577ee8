// Fixture jobs as if the server had created them: every TrainJob and OptimizationJob labelled as
// the server's gets an ownership proof for the owner a server with this kubeconfig acts as.
import { Kube } from '../../runtime/k8s/client.ts';
import { Ownership } from '../../runtime/auth/ownership.ts';
import { localOwnerOf } from '../../runtime/server.ts';

export async function claimFixtureJobs(kubeconfigYaml: string, namespace = 'default'): Promise<string> {
  const kube = new Kube({ kubeconfigYaml });
  const owner = await localOwnerOf(kube, {})();
  const ownership = new Ownership(kube, {});
  for (const resource of ['trainjobs', 'optimizationjobs']) {
    for (const job of (await kube.list(resource, { namespace, labelSelector: 'kubeflow-mcp/managed-by=mcp' })).items) {
      await ownership.claim(kube, resource, job, owner, namespace);
    }
  }
  kube.closeCaches();
  return owner;
}
