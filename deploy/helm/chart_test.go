package helm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const chart = "gatehouse"

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor the
// chart uses (the type is not in k8s.io/api); unknown fields still fail.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered is one `helm template` output, decoded.
type rendered struct {
	deploy     *appsv1.Deployment
	job        *batchv1.Job
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	service    *corev1.Service
	sa         *corev1.ServiceAccount
	ingress    *networkingv1.Ingress
	netpol     *networkingv1.NetworkPolicy
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	pdb        *policyv1.PodDisruptionBudget
	monitor    *serviceMonitor
	kinds      []string
	rawByKinds map[string]string
}

func newObject(kind string) (any, error) {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}, nil
	case "Job":
		return &batchv1.Job{}, nil
	case "ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "Secret":
		return &corev1.Secret{}, nil
	case "Service":
		return &corev1.Service{}, nil
	case "ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "Ingress":
		return &networkingv1.Ingress{}, nil
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "ServiceMonitor":
		return &serviceMonitor{}, nil
	}
	return nil, fmt.Errorf("kind %q has no typed decoder in this test: add one", kind)
}

// render runs the pinned Helm and decodes every document strictly.
func render(t *testing.T, args ...string) *rendered {
	t.Helper()
	cmdArgs := append([]string{"tool", "helm", "template", "gatehouse", chart, "--namespace", "auth", "--kube-version", "1.31.0"}, args...)
	cmd := exec.Command("go", cmdArgs...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmdArgs, " "), err, stderr.String())
	}
	r := &rendered{rawByKinds: map[string]string{}}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, doc)
		}
		if err := json.Unmarshal(j, &head); err != nil {
			t.Fatalf("no kind: %v\n%s", err, doc)
		}
		obj, err := newObject(head.Kind)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			t.Fatalf("%s does not decode strictly into its type: %v\n%s", head.Kind, err, doc)
		}
		if slices.Contains(r.kinds, head.Kind) {
			t.Fatalf("two manifests of kind %s", head.Kind)
		}
		r.kinds = append(r.kinds, head.Kind)
		r.rawByKinds[head.Kind] = doc
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deploy = o
		case *batchv1.Job:
			r.job = o
		case *corev1.ConfigMap:
			r.configMap = o
		case *corev1.Secret:
			r.secret = o
		case *corev1.Service:
			r.service = o
		case *corev1.ServiceAccount:
			r.sa = o
		case *networkingv1.Ingress:
			r.ingress = o
		case *networkingv1.NetworkPolicy:
			r.netpol = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpa = o
		case *policyv1.PodDisruptionBudget:
			r.pdb = o
		case *serviceMonitor:
			r.monitor = o
		}
	}
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// configVars are the variable names of cmd/gatehouse/config.go.
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "cmd", "gatehouse", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, m := range regexp.MustCompile(`env:"([A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		vars[m[1]] = true
	}
	if len(vars) < 10 {
		t.Fatalf("found only %d variables in config.go: %v", len(vars), vars)
	}
	return vars
}

func checkEnvName(t *testing.T, known map[string]bool, where, name string) {
	t.Helper()
	// OTEL_* are the OpenTelemetry SDK's own variables (GATEHOUSE_TRACES=otlp).
	if !known[name] && !strings.HasPrefix(name, "OTEL_") {
		t.Errorf("%s sets %s, which cmd/gatehouse/config.go does not read", where, name)
	}
}

func checkPod(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", what)
	} else if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: pod runs as uid 0", what)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", what, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: root filesystem is writable", what, c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: privilege escalation allowed", what, c.Name)
		case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
			t.Errorf("%s/%s: capabilities not dropped", what, c.Name)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s/%s: memory request and limit must be set", what, c.Name)
		}
	}
}

func checkCommon(t *testing.T, r *rendered, known map[string]bool) {
	t.Helper()
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Job"} {
		if !slices.Contains(r.kinds, k) {
			t.Errorf("no %s rendered (got %v)", k, r.kinds)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	d := r.deploy
	pod := d.Spec.Template.Spec
	checkPod(t, "Deployment", pod)
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("Deployment: no %s probe", name)
			return
		}
		if p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
			t.Errorf("Deployment: %s probe GET %s on %s, want %s on http", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("startup", c.StartupProbe, "/healthz")
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 9000 {
		t.Errorf("Deployment: ports %+v, want http 9000", c.Ports)
	}
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("Deployment: args %v, want [serve]", c.Args)
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("Deployment: no topologySpreadConstraints")
	}
	if pod.ServiceAccountName != r.sa.Name {
		t.Errorf("Deployment: serviceAccountName %q, want %q", pod.ServiceAccountName, r.sa.Name)
	}
	var cmRef, secretRef string
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			cmRef = ef.ConfigMapRef.Name
		}
		if ef.SecretRef != nil {
			secretRef = ef.SecretRef.Name
		}
	}
	if cmRef != r.configMap.Name {
		t.Errorf("Deployment: envFrom ConfigMap %q, want %q", cmRef, r.configMap.Name)
	}
	if secretRef == "" {
		t.Error("Deployment: no envFrom Secret")
	}
	for _, e := range c.Env {
		checkEnvName(t, known, "Deployment", e.Name)
	}
	for k := range r.configMap.Data {
		checkEnvName(t, known, "ConfigMap", k)
	}
	for _, k := range []string{"GATEHOUSE_ENV", "GATEHOUSE_PUBLIC_URL", "GATEHOUSE_BASE_DOMAIN", "GATEHOUSE_NO_MIGRATE", "GATEHOUSE_SHUTDOWN_DELAY"} {
		if _, ok := r.configMap.Data[k]; !ok {
			t.Errorf("ConfigMap: no %s", k)
		}
	}
	if r.configMap.Data["GATEHOUSE_NO_MIGRATE"] != "true" {
		t.Errorf("ConfigMap: GATEHOUSE_NO_MIGRATE=%q with the migration Job enabled, want true", r.configMap.Data["GATEHOUSE_NO_MIGRATE"])
	}

	// Service → the container's named port; selectors match the pods.
	if r.service.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service targets %s, want http", r.service.Spec.Ports[0].TargetPort.String())
	}
	podLabels := d.Spec.Template.Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !matches(r.service.Spec.Selector) {
		t.Errorf("Service selector %v does not select the pods %v", r.service.Spec.Selector, podLabels)
	}
	if !matches(r.pdb.Spec.Selector.MatchLabels) || !matches(r.netpol.Spec.PodSelector.MatchLabels) {
		t.Error("PodDisruptionBudget or NetworkPolicy does not select the pods")
	}
	if r.hpa.Spec.ScaleTargetRef.Kind != "Deployment" || r.hpa.Spec.ScaleTargetRef.Name != d.Name {
		t.Errorf("HPA targets %+v", r.hpa.Spec.ScaleTargetRef)
	}
	if d.Spec.Replicas != nil {
		t.Error("Deployment sets replicas although the HPA owns them")
	}

	// The migration Job: a pre-install and pre-upgrade hook running `gatehouse migrate`.
	j := r.job
	hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
	if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
		t.Errorf("Job: helm.sh/hook=%q, want pre-install,pre-upgrade", j.Annotations["helm.sh/hook"])
	}
	if !strings.Contains(j.Annotations["helm.sh/hook-delete-policy"], "before-hook-creation") {
		t.Errorf("Job: hook-delete-policy %q", j.Annotations["helm.sh/hook-delete-policy"])
	}
	jpod := j.Spec.Template.Spec
	checkPod(t, "Job", jpod)
	if jpod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("Job: restartPolicy %q", jpod.RestartPolicy)
	}
	if !slices.Equal(jpod.Containers[0].Args, []string{"migrate"}) || jpod.Containers[0].Image != c.Image {
		t.Errorf("Job: runs %s %v, want %s [migrate]", jpod.Containers[0].Image, jpod.Containers[0].Args, c.Image)
	}
	jobEnv := map[string]string{}
	for _, e := range jpod.Containers[0].Env {
		checkEnvName(t, known, "Job", e.Name)
		jobEnv[e.Name] = e.Value
	}
	for k, v := range r.configMap.Data {
		if jobEnv[k] != v {
			t.Errorf("Job: %s=%q, ConfigMap has %q", k, jobEnv[k], v)
		}
	}
	if len(jpod.Containers[0].EnvFrom) != 1 || jpod.Containers[0].EnvFrom[0].SecretRef == nil || jpod.Containers[0].EnvFrom[0].SecretRef.Name != secretRef {
		t.Errorf("Job: envFrom %+v, want the Secret %s", jpod.Containers[0].EnvFrom, secretRef)
	}
}

func TestChartDefaults(t *testing.T) {
	known := configVars(t)
	r := render(t)
	checkCommon(t, r, known)
	if r.secret == nil {
		t.Fatal("no Secret rendered without existingSecret")
	}
	for _, k := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_PLATFORM_KEY", "GATEHOUSE_MASTER_KEY"} {
		if len(r.secret.StringData[k]) == 0 {
			t.Errorf("Secret: %s is empty", k)
		}
	}
	for k := range r.secret.StringData {
		checkEnvName(t, known, "Secret", k)
	}
	if n := len(r.secret.StringData["GATEHOUSE_MASTER_KEY"]); n < 32 {
		t.Errorf("generated master key has %d characters, config.go wants >= 32", n)
	}
	if n := len(r.secret.StringData["GATEHOUSE_PLATFORM_KEY"]); n < 24 {
		t.Errorf("generated platform key has %d characters, config.go wants >= 24", n)
	}
	// The Job reads the Secret at pre-install: it must be a hook of lower weight.
	if r.secret.Annotations["helm.sh/hook-weight"] == "" || r.secret.Annotations["helm.sh/hook-weight"] >= r.job.Annotations["helm.sh/hook-weight"] {
		t.Errorf("Secret hook weight %q must sort before the Job's %q", r.secret.Annotations["helm.sh/hook-weight"], r.job.Annotations["helm.sh/hook-weight"])
	}
	if r.deploy.Spec.Template.Spec.Containers[0].EnvFrom[1].SecretRef.Name != r.secret.Name {
		t.Error("Deployment does not read the chart's Secret")
	}
	if r.ingress != nil || r.monitor != nil {
		t.Error("Ingress and ServiceMonitor must be off by default")
	}
}

func TestChartProduction(t *testing.T) {
	known := configVars(t)
	r := render(t, "-f", filepath.Join(chart, "ci", "production-values.yaml"))
	checkCommon(t, r, known)
	if r.secret != nil {
		t.Error("a Secret is rendered although existingSecret is set")
	}
	if got := r.deploy.Spec.Template.Spec.Containers[0].EnvFrom[1].SecretRef.Name; got != "gatehouse-prod" {
		t.Errorf("Deployment reads Secret %q, want the existing gatehouse-prod", got)
	}
	if r.ingress == nil || len(r.ingress.Spec.TLS) == 0 {
		t.Error("no Ingress with TLS")
	}
	if r.monitor == nil || r.monitor.Spec.Endpoints[0].Path != "/metrics" || r.monitor.Spec.Endpoints[0].Port != "http" {
		t.Errorf("ServiceMonitor: %+v", r.monitor)
	}
	if r.configMap.Data["GATEHOUSE_ENV"] != "production" || r.configMap.Data["GATEHOUSE_TRACES"] != "otlp" {
		t.Errorf("ConfigMap: %v", r.configMap.Data)
	}
	if r.configMap.Data["GATEHOUSE_TRUSTED_PROXIES"] != "10.0.0.0/8" {
		t.Errorf("ConfigMap: GATEHOUSE_TRUSTED_PROXIES=%q", r.configMap.Data["GATEHOUSE_TRUSTED_PROXIES"])
	}
	if *r.hpa.Spec.MinReplicas != 3 {
		t.Errorf("HPA minReplicas %d", *r.hpa.Spec.MinReplicas)
	}
	for _, tsc := range r.deploy.Spec.Template.Spec.TopologySpreadConstraints {
		if tsc.WhenUnsatisfiable != corev1.DoNotSchedule {
			t.Errorf("topology spread %s is %s", tsc.TopologyKey, tsc.WhenUnsatisfiable)
		}
	}
}

func TestChartWithoutMigrationJob(t *testing.T) {
	r := render(t, "--set", "migration.enabled=false", "--set", "autoscaling.enabled=false", "--set", "replicaCount=3")
	if r.job != nil {
		t.Error("Job rendered with migration.enabled=false")
	}
	if r.configMap.Data["GATEHOUSE_NO_MIGRATE"] != "false" {
		t.Errorf("GATEHOUSE_NO_MIGRATE=%q without the Job: serve must migrate", r.configMap.Data["GATEHOUSE_NO_MIGRATE"])
	}
	if _, hook := r.secret.Annotations["helm.sh/hook"]; hook {
		t.Error("Secret is a hook although no Job needs it early")
	}
	if r.deploy.Spec.Replicas == nil || *r.deploy.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", r.deploy.Spec.Replicas)
	}
	if r.hpa != nil {
		t.Error("HPA rendered with autoscaling.enabled=false")
	}
}
