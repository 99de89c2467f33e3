export interface ValidationProblem {
  file: string;
  line?: number;
  message: string;
  validator:
    | "hcl"
    | "terraform-fmt"
    | "terraform-refs"
    | "kubernetes"
    | "github-actions"
    | "yaml"
    | "json"
    | "header"
    | "dockerfile";
}
