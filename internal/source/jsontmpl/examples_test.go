package jsontmpl

// examples are the sample specs, as Go values; each has a payload
// testdata/<name>.json, the same spec as YAML in testdata/<name>.route.yaml
// and its result in testdata/<name>.golden.json.
var examples = []struct {
	name string
	spec Spec
}{
	{"github-issues", Spec{
		When: `{{ eq .action "opened" "closed" "reopened" }}`,
		Text: `{{ link .issue.html_url (printf "#%v %s" .issue.number .issue.title) }}
{{ .action }} by {{ .sender.login }} in {{ .repository.full_name }}
{{- with .issue.labels }} · {{ range $i, $l := . }}{{ if $i }}, {{ end }}{{ $l.name }}{{ end }}{{ end }}
{{- if eq .action "opened" }}{{ with .issue.body }}

{{ . | trunc 1000 | md }}{{ end }}{{ end }}`,
		ThreadKey: `github/{{ .repository.full_name }}/issues/{{ .issue.number }}`,
		DedupKey:  `github/{{ .repository.full_name }}/issues/{{ .issue.number }}/{{ .action }}/{{ .issue.updated_at }}`,
	}},
	{"github-pull-request", Spec{
		When:      `{{ eq .action "opened" "closed" "reopened" "ready_for_review" }}`,
		ThreadKey: `github/{{ .repository.full_name }}/pull/{{ .number }}`,
		DedupKey:  `github/{{ .repository.full_name }}/pull/{{ .number }}/{{ .action }}/{{ .pull_request.updated_at }}`,
		Card: &CardSpec{
			Title:    `{{ .repository.full_name }} #{{ .number }}`,
			Subtitle: `{{ if .pull_request.merged }}merged{{ else }}{{ .action | replace "_" " " }}{{ end }} by {{ .sender.login }}`,
			ImageURL: `{{ .sender.avatar_url }}`,
			Sections: []SectionSpec{
				{
					Header: `<b>{{ .pull_request.title }}</b>`,
					Widgets: []WidgetSpec{
						{
							Decorated: &DecoratedSpec{
								Label: `Branch`,
								Text:  `<code>{{ .pull_request.head.label }}</code> → <code>{{ .pull_request.base.ref }}</code>`,
							},
						},
						{
							Decorated: &DecoratedSpec{
								Label: `Changes`,
								Text:  `{{ .pull_request.commits }} commits, <font color="#188038">+{{ .pull_request.additions }}</font> <font color="#d93025">−{{ .pull_request.deletions }}</font> in {{ .pull_request.changed_files }} files`,
							},
						},
						{
							Decorated: &DecoratedSpec{
								Label: `Reviewers`,
								Text:  `{{ range $i, $r := .pull_request.requested_reviewers }}{{ if $i }}, {{ end }}{{ $r.login }}{{ end }}`,
							},
						},
					},
				},
				{
					Header:      `Description`,
					Collapsible: true,
					Widgets: []WidgetSpec{
						{
							Text: `{{ .pull_request.body | trunc 2000 | mdcard }}`,
						},
					},
				},
				{
					Widgets: []WidgetSpec{
						{
							Buttons: []ButtonSpec{
								{
									Text: `Open pull request`,
									URL:  `{{ .pull_request.html_url }}`,
								},
								{
									Text: `Files changed`,
									URL:  `{{ .pull_request.html_url }}/files`,
								},
							},
						},
					},
				},
			},
		},
	}},
	{"gitlab-pipeline", Spec{
		When:      `{{ eq .object_attributes.status "success" "failed" "canceled" }}`,
		ThreadKey: `gitlab/{{ .project.path_with_namespace }}/{{ .object_attributes.ref }}`,
		DedupKey:  `gitlab/{{ .project.path_with_namespace }}/pipelines/{{ .object_attributes.id }}/{{ .object_attributes.status }}`,
		Card: &CardSpec{
			Title:    `{{ .project.path_with_namespace }}`,
			Subtitle: `Pipeline #{{ .object_attributes.id }} on {{ .object_attributes.ref }}`,
			Sections: []SectionSpec{
				{
					Widgets: []WidgetSpec{
						{
							Decorated: &DecoratedSpec{
								Label:       `Status`,
								Text:        `{{ if eq .object_attributes.status "success" }}<font color="#188038">✔ passed</font> {{- else if eq .object_attributes.status "failed" }}<font color="#d93025">✖ failed</font> {{- else }}{{ .object_attributes.status }}{{ end }} in {{ duration .object_attributes.duration }}`,
								BottomLabel: `finished {{ time "2006-01-02 15:04 MST" .object_attributes.finished_at }}`,
							},
						},
						{
							Decorated: &DecoratedSpec{
								Label:       `Commit`,
								Text:        `<a href="{{ .commit.url }}">{{ printf "%.8s" .commit.id }}</a> {{ first (split "\n" .commit.message) }}`,
								BottomLabel: `by {{ .commit.author.name }}`,
							},
						},
					},
				},
				{
					Header: `Failed jobs`,
					Widgets: []WidgetSpec{
						{
							Text: `{{ $n := 0 }}{{ range .builds }}{{ if eq .status "failed" }} {{- if $n }}<br>{{ end }}{{ $n = 1 -}} <b>{{ .name }}</b> ({{ .stage }}): {{ .failure_reason | replace "_" " " }} {{- end }}{{ end }}`,
						},
					},
				},
				{
					Widgets: []WidgetSpec{
						{
							Buttons: []ButtonSpec{
								{
									Text: `Open pipeline`,
									URL:  `{{ .object_attributes.url }}`,
								},
								{
									When: `{{ .merge_request }}`,
									Text: `Merge request !{{ .merge_request.iid }}`,
									URL:  `{{ .merge_request.url }}`,
								},
							},
						},
					},
				},
			},
		},
	}},
	{"uptime", Spec{
		Text: `{{ if eq .heartbeat.status 0 }}🔴 *{{ .monitor.name }}* is down
{{- else if eq .heartbeat.status 1 }}🟢 *{{ .monitor.name }}* is up
{{- else }}{{ .msg }}{{ end }}
{{- with .heartbeat.msg }}
{{ . }}{{ end }}
{{ with .monitor.url }}{{ . }} · {{ end }}{{ time "2006-01-02 15:04:05 MST" .heartbeat.time }}`,
		ThreadKey: `uptime/{{ .monitor.id }}`,
		DedupKey:  `uptime/{{ .monitor.id }}/{{ .heartbeat.status }}/{{ .heartbeat.time }}`,
	}},
}
