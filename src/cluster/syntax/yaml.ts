/**
 * YAML for etcd.yaml and the kubeadm snippet. Every string is a double-quoted scalar: a JSON string
 * is one (YAML 1.2 is a superset of JSON), so quotes, backslashes, `#`, `: ` and leading `*`, `&`,
 * `!` or `-` keep their letters. Control characters are refused rather than escaped: nothing etcd-tls
 * writes has a reason to carry one.
 */
import { checkText, MAX_GENERATED_VALUE } from '../../pki/text.js';
import { rememberingLongValues } from './remember.js';

export function yamlString(value: string, what = 'YAML value'): string {
  return quoteYaml(value, what);
}

const quoteYaml = rememberingLongValues((value, what) => {
  checkText(value, what, MAX_GENERATED_VALUE);
  return JSON.stringify(value);
});

/** `# text`; a comment ends at a newline, so one is refused. */
export function yamlComment(text: string): string {
  checkText(text, 'comment');
  return `# ${text}`;
}
