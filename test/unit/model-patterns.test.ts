import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import { field } from '../../src/model/define.js';
import { analysePattern, MAX_PATTERN_STEPS, patternProblem as unsafePattern } from '../../src/model/pattern-safety.js';
import type { ModelProblem } from '../../src/model/problems.js';

const withCode = (options: Parameters<typeof field.string>[0]) => ({ resources: { items: { fields: { code: field.string(options) } } } });

function patternProblem(options: Parameters<typeof field.string>[0]): ModelProblem | undefined {
  const result = compileModel(withCode(options));
  if (result.ok) return undefined;
  const problems = result.problems.filter((p) => p.path === 'resources.items.fields.code.pattern');
  assert.equal(problems.length, result.problems.length, `only the pattern is wrong: ${JSON.stringify(result.problems)}`);
  return problems[0];
}

// recheck's first call starts its native backend (most of a second); these tests share that cost.
describe('a pattern that can backtrack catastrophically is refused at load', () => {
  test('exponential: refused whatever the maxLength', () => {
    for (const pattern of ['^(a+)+$', '(a|a)*$']) {
      for (const maxLength of [undefined, 10]) {
        const problem = patternProblem({ pattern, maxLength });
        assert.ok(problem, `${pattern} with maxLength ${maxLength} is refused`);
        assert.match(problem.message, /backtrack exponentially/);
        assert.match(problem.hint, /without nested or overlapping quantifiers/);
      }
    }
  });

  test('polynomial without a maxLength: refused, with the fix', () => {
    const problem = patternProblem({ pattern: '^\\d+\\d+$' });
    assert.ok(problem);
    assert.equal(problem.message, 'the pattern can backtrack polynomially (degree 2): without a maxLength, one input can take up to length^2 steps');
    assert.equal(problem.hint, 'rewrite it without overlapping quantifiers (e.g. ^\\d+\\d+$ → ^\\d{2,}$), or declare maxLength: 3162 or less');
  });

  test('polynomial with a small enough maxLength: accepted (length is checked before the pattern)', () => {
    assert.equal(patternProblem({ pattern: '^\\d+\\d+$', maxLength: 100 }), undefined);
    assert.equal(patternProblem({ pattern: '^\\d+\\d+$', maxLength: 3162 }), undefined, `3162² ≤ ${MAX_PATTERN_STEPS}`);
  });

  test('polynomial with too large a maxLength: refused', () => {
    const problem = patternProblem({ pattern: '^\\d+\\d+$', maxLength: 3163 });
    assert.match(problem?.message ?? '', /degree 2\): with maxLength 3163/);
    const cubic = patternProblem({ pattern: '^.*a.*a.*$', maxLength: 1000 });
    assert.match(cubic?.message ?? '', /degree 3/);
    assert.match(cubic?.hint ?? '', /maxLength: 215 or less/);
    assert.equal(patternProblem({ pattern: '^.*a.*a.*$', maxLength: 215 }), undefined);
  });

  test('ordinary patterns are accepted', () => {
    for (const pattern of ['^[a-z0-9-]+$', '^[^@]+@[^@]+\\.[a-z]+$', '^[A-Z]{2}-\\d{4}$', '^\\p{L}+$', '^(?=.*\\d).{8,64}$']) {
      assert.equal(patternProblem({ pattern }), undefined, pattern);
    }
  });

  test('an invalid pattern is reported as invalid, not analysed', () => {
    assert.match(patternProblem({ pattern: '(' })?.message ?? '', /not a valid regular expression/);
  });

  test('every unsafe pattern of a model is reported at once', () => {
    const result = compileModel({
      resources: {
        a: { fields: { x: field.string({ pattern: '^(a+)+$' }), y: field.string({ pattern: '^[a-z]+$' }) } },
        b: { fields: { z: field.text({ pattern: '^\\d+\\d+$' }) } },
      },
    });
    assert.deepEqual(!result.ok && result.problems.map((p) => p.path), ['resources.a.fields.x.pattern', 'resources.b.fields.z.pattern']);
  });

  test('an analysis that does not finish in time is undecided: refused, with a hint to simplify', () => {
    // Lookaheads send recheck to its fuzzer, which cannot finish in a millisecond.
    const problem = unsafePattern('^(?=.*\\d)(?=.*[a-z])(?=.*[A-Z]).{8,64}$', 64, 1);
    assert.deepEqual(problem, {
      message: 'the pattern could not be shown safe from catastrophic backtracking: the analysis did not finish within 1 ms',
      hint: 'simplify the pattern (fewer nested or repeated groups), or check the field in code instead',
    });
    // Not remembered: a busy machine, not the pattern, may be why; the next load asks again.
    assert.equal(analysePattern('^(?=.*\\d)(?=.*[a-z])(?=.*[A-Z]).{8,64}$').kind, 'safe');
  });

  test('verdicts are remembered: the second look at a pattern does not run the analysis again', () => {
    const first = analysePattern('^(b+)+$');
    const started = performance.now();
    const second = analysePattern('^(b+)+$');
    assert.deepEqual(second, first);
    assert.equal(second.kind, 'exponential');
    assert.ok(performance.now() - started < 50, 'answered from memory');
  });
});
