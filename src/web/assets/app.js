// Progressive enhancement only: every page works without it.
document.addEventListener('DOMContentLoaded', () => {
  const resend = document.querySelector('[data-available-at]');
  if (resend) {
    const availableAt = Date.parse(resend.dataset.availableAt);
    const label = resend.textContent;
    const tick = () => {
      const seconds = Math.ceil((availableAt - Date.now()) / 1000);
      if (seconds > 0) {
        resend.disabled = true;
        resend.textContent = `${label} (in ${seconds} s)`;
        setTimeout(tick, 1000);
      } else {
        resend.disabled = false;
        resend.textContent = label;
      }
    };
    tick();
  }
  const code = document.querySelector('input.code');
  if (code) {
    code.addEventListener('paste', (event) => {
      const pasted = (event.clipboardData || window.clipboardData).getData('text');
      const digits = pasted.replace(/\D/g, '');
      if (digits) {
        event.preventDefault();
        code.value = digits;
      }
    });
  }
});
