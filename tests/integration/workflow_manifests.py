"""Workflow manifests run by both the local and the devcluster integration tests."""

STEPS = """
metadata: {generateName: steps-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: greeting, value: hello}]}
  templates:
  - name: main
    steps:
    - - name: generate
        template: generate
    - - name: consume
        template: consume
        arguments:
          parameters:
          - name: text
            value: "{{steps.generate.outputs.parameters.word}} {{steps.generate.outputs.result}}"
          artifacts:
          - {name: report, from: "{{steps.generate.outputs.artifacts.report}}"}
      - {name: skipped, template: generate, when: "{{workflow.parameters.greeting}} == bye"}
  - name: generate
    outputs:
      parameters: [{name: word, valueFrom: {path: /tmp/word.txt}}]
      artifacts: [{name: report, path: /tmp/report}]
    script:
      image: python:3.11
      command: [python3]
      source: |
        import pathlib
        pathlib.Path("/tmp/word.txt").write_text("{{workflow.parameters.greeting}}\\n")
        pathlib.Path("/tmp/report").mkdir()
        pathlib.Path("/tmp/report/summary.txt").write_text("42 rows\\n")
        print("from-stdout")
  - name: consume
    inputs:
      parameters: [{name: text, value: none}]
      artifacts: [{name: report, path: /tmp/input/report}]
    outputs:
      parameters: [{name: seen, valueFrom: {path: /tmp/seen}}]
    container:
      image: busybox
      command: [sh, -c]
      args: ["echo '{{inputs.parameters.text}}' $(cat /tmp/input/report/summary.txt) > /tmp/seen"]
"""
