// Package check reads the relay's Kubernetes manifests the way the API
// server would: every document decoded into its Kubernetes API type, an
// unknown or misspelt field refused, and the references between the
// documents of a file (selectors, ConfigMaps, Secrets and their keys,
// volumes, named ports) resolved. It is a module of its own so that the
// gchat module does not depend on k8s.io/api.
package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// kinds are the types a manifest may hold, by apiVersion and kind.
var kinds = map[string]func() any{
	"v1/Secret":                     func() any { return new(corev1.Secret) },
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"apps/v1/StatefulSet":           func() any { return new(appsv1.StatefulSet) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"batch/v1/Job":                  func() any { return new(batchv1.Job) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
}

// separator splits a YAML stream into documents.
var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// File decodes every document of the manifest file at path and checks the
// references between them. It returns the decoded objects.
func File(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []any
	for i, doc := range separator.Split(string(data), -1) {
		obj, err := decode([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	if err := references(objs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// decode turns one YAML document into its API type, refusing duplicate and
// unknown fields; nil for an empty document.
func decode(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(js)) == "null" {
		return nil, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("unexpected kind %s %q", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// pod is a workload's pod template.
type pod struct {
	owner  string // kind and name of the workload
	tmpl   corev1.PodTemplateSpec
	job    bool     // a Job's: not behind a Service
	claims []string // a StatefulSet's volume claim templates
}

// references checks that what the documents name exists among them.
func references(objs []any) error {
	secrets := map[string]map[string]bool{} // name → keys
	configMaps := map[string]map[string]bool{}
	var pods []pod
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			keys := map[string]bool{}
			for k := range o.StringData {
				keys[k] = true
			}
			for k := range o.Data {
				keys[k] = true
			}
			secrets[o.Name] = keys
		case *corev1.ConfigMap:
			keys := map[string]bool{}
			for k := range o.Data {
				keys[k] = true
			}
			configMaps[o.Name] = keys
		case *appsv1.StatefulSet:
			if err := selects("StatefulSet "+o.Name, o.Spec.Selector, o.Spec.Template); err != nil {
				return err
			}
			p := pod{owner: "StatefulSet " + o.Name, tmpl: o.Spec.Template}
			for _, c := range o.Spec.VolumeClaimTemplates {
				p.claims = append(p.claims, c.Name)
			}
			pods = append(pods, p)
		case *appsv1.Deployment:
			if err := selects("Deployment "+o.Name, o.Spec.Selector, o.Spec.Template); err != nil {
				return err
			}
			pods = append(pods, pod{owner: "Deployment " + o.Name, tmpl: o.Spec.Template})
		case *batchv1.Job:
			pods = append(pods, pod{owner: "Job " + o.Name, tmpl: o.Spec.Template, job: true})
		}
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			if !selectsAny(labels.SelectorFromSet(o.Spec.Selector), pods, true) {
				return fmt.Errorf("Service %s selects no workload's pods", o.Name)
			}
			for _, p := range o.Spec.Ports {
				if p.TargetPort.StrVal != "" && !portNamed(pods, p.TargetPort.StrVal) {
					return fmt.Errorf("Service %s: no container port is named %q", o.Name, p.TargetPort.StrVal)
				}
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
			if err != nil {
				return fmt.Errorf("PodDisruptionBudget %s: %w", o.Name, err)
			}
			if !selectsAny(sel, pods, false) {
				return fmt.Errorf("PodDisruptionBudget %s selects no workload's pods", o.Name)
			}
		}
	}
	for _, p := range pods {
		if err := podReferences(p, secrets, configMaps); err != nil {
			return err
		}
	}
	return nil
}

// selects checks that a workload's selector matches its own pod template.
func selects(owner string, sel *metav1.LabelSelector, tmpl corev1.PodTemplateSpec) error {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Errorf("%s: selector: %w", owner, err)
	}
	if s.Empty() || !s.Matches(labels.Set(tmpl.Labels)) {
		return fmt.Errorf("%s: the selector %s does not match the pod template's labels %v", owner, s, tmpl.Labels)
	}
	return nil
}

// selectsAny reports whether sel matches the pods of a workload (a Job's
// too, unless long-running only).
func selectsAny(sel labels.Selector, pods []pod, longRunning bool) bool {
	if sel.Empty() {
		return false
	}
	for _, p := range pods {
		if longRunning && p.job {
			continue
		}
		if sel.Matches(labels.Set(p.tmpl.Labels)) {
			return true
		}
	}
	return false
}

func portNamed(pods []pod, name string) bool {
	for _, p := range pods {
		for _, c := range p.tmpl.Spec.Containers {
			if slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == name }) {
				return true
			}
		}
	}
	return false
}

// podReferences checks a pod template's volumes, mounts, secret keys and
// probe ports.
func podReferences(p pod, secrets, configMaps map[string]map[string]bool) error {
	spec := p.tmpl.Spec
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		switch {
		case v.Secret != nil && secrets[v.Secret.SecretName] == nil:
			return fmt.Errorf("%s: volume %s: no Secret %q", p.owner, v.Name, v.Secret.SecretName)
		case v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil:
			return fmt.Errorf("%s: volume %s: no ConfigMap %q", p.owner, v.Name, v.ConfigMap.Name)
		}
	}
	for _, c := range p.claims {
		volumes[c] = true
	}
	for _, c := range spec.Containers {
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				return fmt.Errorf("%s: container %s mounts %s, which is no volume", p.owner, c.Name, m.Name)
			}
		}
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
				keys := secrets[r.SecretKeyRef.Name]
				if !keys[r.SecretKeyRef.Key] {
					return fmt.Errorf("%s: env %s: no key %q in Secret %q", p.owner, e.Name, r.SecretKeyRef.Key, r.SecretKeyRef.Name)
				}
			}
		}
		for _, pr := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
			if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Port.StrVal == "" {
				continue
			}
			if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == pr.HTTPGet.Port.StrVal }) {
				return fmt.Errorf("%s: container %s: a probe's port %q is not one of its ports", p.owner, c.Name, pr.HTTPGet.Port.StrVal)
			}
		}
	}
	return nil
}

func typeName(o any) string { return fmt.Sprintf("%T", o) }
