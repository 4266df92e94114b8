import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/shared/errors/problem-error.ts';
import { malformedPlaceholders, resolveTemplateBody, templatePlaceholders } from '../../src/shared/jobs/template-body.ts';

const template = {
  images: ['{{image_url}}', 'https://cdn.example/fixed.jpg'],
  prompt: 'Show {{ title }} for {{price}}',
  options: { duration_s: '{{seconds}}', text: [{ text: '{{title}}', start_s: 0, end_s: 2 }] },
  metadata: { sku: '{{sku}}' },
};

function problemOf(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('no problem thrown');
}

describe('resolving a template body', () => {
  it('lists each placeholder once, spaces inside the braces ignored', () => {
    expect(templatePlaceholders(template)).toEqual(['image_url', 'price', 'seconds', 'sku', 'title']);
  });

  it('inserts values as data: quotes, braces, backslashes and placeholders in a value stay as they are', () => {
    const title = 'Say "hi" {{sku}} } \\ {"a":1}';
    const body = resolveTemplateBody(template, { image_url: 'https://cdn.example/a.jpg', title, price: '€9', seconds: 3, sku: 'S-1' });
    expect(body).toEqual({
      images: ['https://cdn.example/a.jpg', 'https://cdn.example/fixed.jpg'],
      prompt: `Show ${title} for €9`,
      options: { duration_s: 3, text: [{ text: title, start_s: 0, end_s: 2 }] },
      metadata: { sku: 'S-1' },
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
    // the template itself is left as it was
    expect(template.options.duration_s).toBe('{{seconds}}');
  });

  it('refuses a merge without a value for a placeholder (422 placeholder_missing naming them)', () => {
    const problem = problemOf(() => resolveTemplateBody(template, { image_url: 'x', title: 't', seconds: 1 }));
    expect(problem).toMatchObject({ code: 'placeholder_missing', status: 422, extra: { placeholders: ['price', 'sku'] } });
    expect(problem.message).toContain('"price", "sku"');
  });

  it('refuses a merge naming what the template does not use (422 placeholder_unknown naming them)', () => {
    const problem = problemOf(() => resolveTemplateBody(template, { image_url: 'x', title: 't', seconds: 1, price: '1', sku: 's', colour: 'red' }));
    expect(problem).toMatchObject({ code: 'placeholder_unknown', status: 422, extra: { placeholders: ['colour'] } });
  });

  it('finds `{{…}}` that is no placeholder name, with its path', () => {
    expect(malformedPlaceholders({ prompt: 'ok {{fine}}', options: { text: [{ text: '{{image url}}' }] } })).toEqual([{ path: 'options.text.0.text', placeholder: '{{image url}}' }]);
  });
});
