export interface ValidationProblem {
  file: string;
  line?: number;
  message: string;
  validator:
    | "hcl"
    | "terraform-fmt"
    | "terraform-refs"
    | "terraform-modules"
    | "terraform-schema"
    | "kubernetes"
    | "kubernetes-refs"
    | "helm"
    | "github-actions"
    | "actionlint"
    | "yaml"
    | "json"
    | "header"
    | "dockerfile";
}

export interface ValidateOptions {
  /** where validation reports what it could not check (said once per process); stderr by default */
  notice?: (message: string) => void;
}
