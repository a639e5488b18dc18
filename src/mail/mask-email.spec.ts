import { maskEmail } from './mail.service';

describe('maskEmail', () => {
  it.each([
    ['new.address@example.com', 'n…@e….com'],
    ['ada@mail.example.co.uk', 'a…@m….uk'],
    ['x@localhost', 'x…@l…'],
    ['émile@bücher.de', 'é…@b….de'],
  ])('shows %s as %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it('never shows more than one character of the local part or of the domain name', () => {
    const masked = maskEmail('secret-name@private-domain.org');
    expect(masked).not.toContain('secret');
    expect(masked).not.toContain('private');
  });
});
