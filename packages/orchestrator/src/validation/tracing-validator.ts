import type { ComponentSpec, ValidationResult } from '@nestor/sdk';
import type { Tracer } from '@opentelemetry/api';
import { withSpan } from '../observability/tracing/tracing.js';
import type { ComponentValidator, ValidateOptions } from './interfaces.js';

/** `validation.validate` around every validation, with the verdict as attributes. */
export class TracingValidator implements ComponentValidator {
  private readonly inner: ComponentValidator;
  private readonly tracer: Tracer;

  constructor(opts: { inner: ComponentValidator; tracer: Tracer }) {
    this.inner = opts.inner;
    this.tracer = opts.tracer;
  }

  validate(spec: ComponentSpec, opts?: ValidateOptions): Promise<ValidationResult> {
    return withSpan(
      this.tracer,
      'validation.validate',
      { 'nestor.component': spec.name, 'nestor.version': spec.version },
      async (span) => {
        const result = await this.inner.validate(spec, opts);
        span.setAttribute('nestor.validation.valid', result.valid);
        span.setAttribute('nestor.validation.errors', result.errors.length);
        return result;
      },
    );
  }
}
