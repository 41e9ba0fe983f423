// Package argo mirrors the Argo Rollouts canary step types whose Go JSON
// encoding feeds status.currentStepHash.
//
// The upstream types live in github.com/argoproj/argo-rollouts, a module far
// too heavy to pull in for a dozen structs. These mirrors are written from
// the field order, json tags and omitempty choices in
// shared/reference/argo-rollouts-api.md §0.5 (checked against the upstream
// v1alpha1 types.go). encoding/json only looks at field order, json tags and
// Go kinds, so matching those three is all a mirror needs to produce the
// same bytes. Comments name the few choices the reference leaves open.
package argo

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CanaryStep is one entry of spec.strategy.canary.steps.
type CanaryStep struct {
	SetWeight      *int32                 `json:"setWeight,omitempty"`
	Pause          *RolloutPause          `json:"pause,omitempty"`
	Experiment     *RolloutExperimentStep `json:"experiment,omitempty"`
	Analysis       *RolloutAnalysis       `json:"analysis,omitempty"`
	SetCanaryScale *SetCanaryScale        `json:"setCanaryScale,omitempty"`
	SetHeaderRoute *SetHeaderRoute        `json:"setHeaderRoute,omitempty"`
	SetMirrorRoute *SetMirrorRoute        `json:"setMirrorRoute,omitempty"`
	Plugin         *PluginStep            `json:"plugin,omitempty"`
}

// RolloutPause keeps the duration's JSON kind: 10 and "10s" hash differently.
type RolloutPause struct {
	Duration *intstr.IntOrString `json:"duration,omitempty"`
}

// RolloutExperimentStep is the experiment step.
type RolloutExperimentStep struct {
	Templates []RolloutExperimentTemplate                `json:"templates"`
	Duration  string                                     `json:"duration,omitempty"`
	Analyses  []RolloutExperimentStepAnalysisTemplateRef `json:"analyses,omitempty"`
	DryRun    []DryRun                                   `json:"dryRun,omitempty"`
	// A struct value: omitempty never drops it, so it is always "{}" at least.
	AnalysisRunMetadata AnalysisRunMetadata `json:"analysisRunMetadata,omitempty"`
	// The reference gives only the position; a pointer like every other
	// optional int32 of these types (differs from a plain int32 only for an
	// explicit 0).
	ScaleDownDelaySeconds *int32 `json:"scaleDownDelaySeconds,omitempty"`
}

// RolloutExperimentTemplate is one ReplicaSet template of an experiment step.
type RolloutExperimentTemplate struct {
	Name     string                `json:"name"`
	SpecRef  string                `json:"specRef"`
	Replicas *int32                `json:"replicas,omitempty"`
	Metadata PodTemplateMetadata   `json:"metadata,omitempty"`
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	Weight   *int32                `json:"weight,omitempty"`
	Service  *TemplateService      `json:"service,omitempty"`
}

// TemplateService asks for a Service in front of an experiment template.
type TemplateService struct {
	Name string `json:"name,omitempty"`
}

// PodTemplateMetadata holds extra labels and annotations.
type PodTemplateMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AnalysisRunMetadata holds labels and annotations for created AnalysisRuns.
type AnalysisRunMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// RolloutExperimentStepAnalysisTemplateRef is an analysis run alongside an experiment.
type RolloutExperimentStepAnalysisTemplateRef struct {
	Name                  string                `json:"name"`
	TemplateName          string                `json:"templateName"`
	ClusterScope          bool                  `json:"clusterScope,omitempty"`
	Args                  []AnalysisRunArgument `json:"args,omitempty"`
	RequiredForCompletion bool                  `json:"requiredForCompletion,omitempty"`
}

// RolloutAnalysis is the analysis step (also background and blue-green analysis).
type RolloutAnalysis struct {
	Templates            []RolloutAnalysisTemplate `json:"templates,omitempty"`
	Args                 []AnalysisRunArgument     `json:"args,omitempty"`
	DryRun               []DryRun                  `json:"dryRun,omitempty"`
	MeasurementRetention []MeasurementRetention    `json:"measurementRetention,omitempty"`
	// A struct value upstream, so "{}" is always emitted. The reference's list
	// of always-emitted fields names only the experiment's copy; upstream's
	// types.go declares both as struct values.
	AnalysisRunMetadata AnalysisRunMetadata `json:"analysisRunMetadata,omitempty"`
}

// RolloutAnalysisTemplate names an AnalysisTemplate or ClusterAnalysisTemplate.
type RolloutAnalysisTemplate struct {
	TemplateName string `json:"templateName"`
	ClusterScope bool   `json:"clusterScope,omitempty"`
}

// AnalysisRunArgument is one argument passed to the AnalysisRun.
type AnalysisRunArgument struct {
	Name      string             `json:"name"`
	Value     string             `json:"value,omitempty"`
	ValueFrom *ArgumentValueFrom `json:"valueFrom,omitempty"`
}

// ArgumentValueFrom says where an argument's value comes from.
type ArgumentValueFrom struct {
	PodTemplateHashValue *string   `json:"podTemplateHashValue,omitempty"`
	FieldRef             *FieldRef `json:"fieldRef,omitempty"`
}

// FieldRef selects a field of the Rollout.
type FieldRef struct {
	FieldPath string `json:"fieldPath"`
}

// DryRun marks metrics (a regular expression) as dry-run.
type DryRun struct {
	MetricName string `json:"metricName"`
}

// MeasurementRetention caps kept measurements of matching metrics.
type MeasurementRetention struct {
	MetricName string `json:"metricName"`
	Limit      int32  `json:"limit"`
}

// SetCanaryScale overrides the canary replica count.
type SetCanaryScale struct {
	Weight             *int32 `json:"weight,omitempty"`
	Replicas           *int32 `json:"replicas,omitempty"`
	MatchTrafficWeight bool   `json:"matchTrafficWeight,omitempty"`
}

// SetHeaderRoute adds or removes a header-based managed route.
type SetHeaderRoute struct {
	Name  string               `json:"name,omitempty"`
	Match []HeaderRoutingMatch `json:"match,omitempty"`
}

// HeaderRoutingMatch matches one request header.
type HeaderRoutingMatch struct {
	HeaderName  string       `json:"headerName"`
	HeaderValue *StringMatch `json:"headerValue"`
}

// SetMirrorRoute adds or removes a mirroring managed route.
type SetMirrorRoute struct {
	Name       string       `json:"name"`
	Match      []RouteMatch `json:"match,omitempty"`
	Percentage *int32       `json:"percentage,omitempty"`
}

// RouteMatch selects requests to mirror.
type RouteMatch struct {
	Method  *StringMatch           `json:"method,omitempty"`
	Path    *StringMatch           `json:"path,omitempty"`
	Headers map[string]StringMatch `json:"headers,omitempty"`
}

// StringMatch is exactly one of exact, prefix or regex.
type StringMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Regex  string `json:"regex,omitempty"`
}

// PluginStep runs a step plugin; its config is opaque JSON kept as received.
type PluginStep struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}
